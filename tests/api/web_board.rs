//! (being written)

use crate::common::TestDb;

pub async fn web_follow_up_board_and_reminders(db: &TestDb) {
    let _ = db;
}
