//! Rebuilds while the service runs: on both backends the new read models are built beside the
//! live ones (PostgreSQL: a schema of their own; SQLite: a file of their own, then copied in) and
//! swapped in, so appends and reads go on; nothing appended meanwhile is lost or doubled, and the
//! models swapped in equal a fresh rebuild.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use shura::projections::queries::search;
use shura::store::{Pool, Progress, Store};
use tokio::sync::Notify;

use crate::common::{raw_i64, TestDb};
use crate::{id, run, small_world};

/// Holds a rebuild at its first page of the log until the test lets it go.
struct Pause {
    reached: Notify,
    once: AtomicBool,
    release: Mutex<mpsc::Receiver<()>>,
}

impl Progress for Pause {
    fn total(&self, _events: u64) {}

    fn advance(&self, _events: u64) {
        if !self.once.swap(true, Ordering::SeqCst) {
            self.reached.notify_one();
            // The rebuild's worker thread waits, handing its other tasks to another thread
            // first (a task queued on it would wait too); a test that fails before letting it
            // go does not hang it forever.
            tokio::task::block_in_place(|| {
                if let Ok(release) = self.release.lock() {
                    let _ = release.recv_timeout(Duration::from_secs(30));
                }
            });
        }
    }
}

fn organisation(n: usize) -> serde_json::Value {
    json!({"aggregate": "organisation", "type": "register_organisation",
        "organisation_id": id(&format!("org/online-{n}")),
        "name": {"fr": format!("Coopérative {n}")}, "kind": "federation", "region": "MA-03"})
}

pub async fn appends_and_reads_go_on_during_a_rebuild(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    for n in 0..200 {
        run(&store, organisation(n)).await;
    }
    let reader = db.domain_store().await;
    let (let_go, release) = mpsc::channel();
    let pause = Arc::new(Pause {
        reached: Notify::new(),
        once: AtomicBool::new(false),
        release: Mutex::new(release),
    });
    let rebuild = {
        let (store, pause) = (store.clone(), pause.clone());
        tokio::spawn(async move {
            store
                .rebuild_read_models_with_progress(true, pause.as_ref())
                .await
        })
    };
    let mut appended = 200;
    pause.reached.notified().await;
    // The rebuild is in the middle of its replay: an append and reads go through at once.
    tokio::time::timeout(Duration::from_secs(10), run(&store, organisation(appended)))
        .await
        .expect("an append does not wait for a rebuild");
    appended += 1;
    let hits = search(reader.pool(), "الاقتصاد", 20).await.unwrap();
    assert_eq!(
        hits.len(),
        1,
        "readers are served the live models meanwhile"
    );
    let _ = let_go.send(());
    // Appends from many tasks at once while the rebuild finishes.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for k in 0..10 {
                    run(&store, organisation(1_000 + w * 10 + k)).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    appended += 80;
    let report = rebuild.await.unwrap().unwrap();
    assert!(report.events >= 200, "{report:?}");

    // Nothing lost or doubled: every organisation once, the seeds' one included.
    assert_eq!(
        raw_i64(&store, "SELECT COUNT(*) FROM rm_organisations").await,
        i64::try_from(appended).unwrap() + 1
    );
    // The models swapped in equal a fresh rebuild of the whole log.
    let check = store.rebuild_read_models(false).await.unwrap();
    assert_eq!(check.differences, Vec::<String>::new());
    // It held appends for a moment, not its length.
    assert!(report.writes_held < Duration::from_secs(5), "{report:?}");
    // Word search reads the swapped-in word indexes, and appends after the swap reach them.
    run(&store, organisation(9_000)).await;
    appended += 1;
    assert_eq!(search(reader.pool(), "9000", 5).await.unwrap().len(), 1);
    assert_eq!(search(reader.pool(), "الاقتصاد", 20).await.unwrap().len(), 1);
    let check = store.rebuild_read_models(false).await.unwrap();
    assert_eq!(check.differences, Vec::<String>::new());
    if store.backend() == "sqlite" {
        // Nothing of the rebuild is left: no file beside the database, no renamed table.
        let file = db.url.trim_start_matches("sqlite://");
        assert!(!std::path::Path::new(&format!("{file}.rebuild")).exists());
        assert_eq!(
            raw_i64(
                &store,
                "SELECT COUNT(*) FROM sqlite_master WHERE type <> 'index' \
                 AND (substr(name, -6) = '__next' OR instr(name, '__old') > 0)"
            )
            .await,
            0
        );
        // SQLite cannot rename an index: the swapped-in tables' indexes have their other
        // names, and a second rebuild gives them back; it still equals a fresh rebuild.
        let other_names = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
                           AND substr(name, -6) = '__next'";
        assert!(raw_i64(&store, other_names).await > 0);
        store.rebuild_read_models(true).await.unwrap();
        assert_eq!(raw_i64(&store, other_names).await, 0);
        run(&store, organisation(9_001)).await;
        appended += 1;
        let check = store.rebuild_read_models(false).await.unwrap();
        assert_eq!(check.differences, Vec::<String>::new());
        assert_eq!(
            raw_i64(&store, "SELECT COUNT(*) FROM rm_organisations").await,
            i64::try_from(appended).unwrap() + 1
        );
    } else {
        // The rebuild's schemas are gone.
        assert_eq!(
            raw_i64(
                &store,
                "SELECT COUNT(*) FROM pg_namespace WHERE nspname <> current_schema() \
                 AND left(nspname, 40) = left(current_schema(), 40)"
            )
            .await,
            0
        );
        a_reader_holding_a_table_delays_the_swap_not_the_appends(&store, &reader).await;
    }
}

/// A reader's open transaction holds a read model: the swap waits for it in bounded tries,
/// giving the head back between them, so appends still go through; it completes once the
/// reader is done.
async fn a_reader_holding_a_table_delays_the_swap_not_the_appends(store: &Store, reader: &Store) {
    let Pool::Postgres(pg) = reader.pool() else {
        return;
    };
    let mut held = pg.begin().await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM rm_organisations")
        .execute(&mut *held)
        .await
        .unwrap();
    let rebuild = {
        let store = store.clone();
        tokio::spawn(async move { store.rebuild_read_models(true).await })
    };
    // Past a first try at the swap (each waits 500 ms for the table).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(!rebuild.is_finished(), "the swap waits for the reader");
    tokio::time::timeout(Duration::from_secs(5), run(store, organisation(5_000)))
        .await
        .expect("appends go through between the swap's tries");
    held.commit().await.unwrap();
    let report = tokio::time::timeout(Duration::from_secs(30), rebuild)
        .await
        .expect("the swap completes once the reader is done")
        .unwrap()
        .unwrap();
    assert!(report.events > 0);
    let check = store.rebuild_read_models(false).await.unwrap();
    assert_eq!(check.differences, Vec::<String>::new());
}

/// Readers on other connections never see an error from rebuilds, however often they come: a
/// rebuild changes the catalogue (on SQLite, three times), and a first version whose changes
/// came in quick succession made word searches fail with `SQLITE_SCHEMA` about once a rebuild.
pub async fn readers_never_fail_during_rebuilds(db: &TestDb) {
    let store = db.domain_store().await;
    small_world(&store).await;
    for n in 0..100 {
        run(&store, organisation(n)).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop) = (db.url.clone(), stop.clone());
            tokio::spawn(async move {
                let pool = Pool::connect(&url, 2).await.unwrap();
                let (mut reads, mut errors) = (0, Vec::new());
                while !stop.load(Ordering::SeqCst) {
                    for words in ["الاقتصاد", "Coopérative"] {
                        match search(&pool, words, 20).await {
                            Ok(hits) if !hits.is_empty() => reads += 1,
                            Ok(_) => errors.push(format!("{words}: no hit")),
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                }
                pool.close().await;
                (reads, errors)
            })
        })
        .collect();
    for _ in 0..10 {
        store.rebuild_read_models(true).await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        let (reads, errors) = reader.await.unwrap();
        assert!(reads > 0);
        assert_eq!(errors, Vec::<String>::new(), "after {reads} reads");
    }
}
