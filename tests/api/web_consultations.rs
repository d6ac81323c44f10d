//! (being written)

use crate::common::TestDb;

pub async fn web_consultation_pages(db: &TestDb) {
    let _ = db;
}
