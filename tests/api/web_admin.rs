//! (being written)

use crate::common::TestDb;

pub async fn web_stakeholders_audit_and_users(db: &TestDb) {
    let _ = db;
}
