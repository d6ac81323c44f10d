//! (being written)

use crate::common::TestDb;

pub async fn browser_flows(db: &TestDb) {
    let _ = db;
}
