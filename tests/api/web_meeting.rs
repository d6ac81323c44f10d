//! (being written)

use crate::common::TestDb;

pub async fn web_meeting_flow(db: &TestDb) {
    let _ = db;
}
