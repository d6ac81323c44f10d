// Runs graphql-http's GraphQL over HTTP audit against the server at process.argv[2] and prints
// one JSON line per check: {id, name, status} (status: ok, notice, warn for a SHOULD, error for
// a MUST).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
for (const result of results) {
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status,
    reason: result.reason ?? null }));
}
