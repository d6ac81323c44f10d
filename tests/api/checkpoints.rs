//! Signed checkpoints end to end: `shura keygen`, `serve --checkpoint-key --checkpoint-every`,
//! the public `GET /checkpoints`, `shura checkpoint`, and `shura verify --checkpoint`.

use std::time::Duration;

use serde_json::Value;

use crate::common::server::{http, Server};
use crate::common::TestDb;

/// Runs the `shura` binary on `url` (the open-data tests use it too).
pub fn shura(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shura"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run shura")
}

async fn served(server: &Server) -> Vec<Value> {
    let (status, body) = http(&server.addr, "GET", "/checkpoints", None, "*/*", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Vec<Value>>(&body).unwrap()
}

pub async fn serve_signs_checkpoints_and_verify_checks_them(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    let key = key.to_str().unwrap();
    let made = shura(&db.url, &["keygen", "--out", key]);
    assert!(made.status.success(), "{made:?}");
    let secret = std::fs::read_to_string(key).unwrap();
    let public = std::fs::read_to_string(format!("{key}.pub")).unwrap();
    assert_eq!((secret.trim().len(), public.trim().len()), (64, 64));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never an overwrite.
    let again = shura(&db.url, &["keygen", "--out", key]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(key).unwrap(), secret);
    let other = dir.path().join("other");
    let other = other.to_str().unwrap();
    assert!(shura(&db.url, &["keygen", "--out", other]).status.success());

    // Seeded on start, then the first admin token is appended: a checkpoint signs the head.
    let server = Server::start(
        &db.url,
        &["--checkpoint-key", key, "--checkpoint-every", "1"],
        &[],
    )
    .await;
    let head = || {
        let out = shura(&db.url, &["head"]);
        let text = String::from_utf8(out.stdout).unwrap();
        let (position, hash) = text.trim().split_once(':').unwrap();
        (position.parse::<i64>().unwrap(), hash.to_owned())
    };
    let mut list = Vec::new();
    for _ in 0..200 {
        list = served(&server).await;
        if list.first().and_then(|c| c["position"].as_i64()) == Some(head().0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (position, hash) = head();
    assert!(position > 1);
    assert_eq!(list[0]["position"], position, "{list:?}");
    assert_eq!(list[0]["hash"], hash.as_str());
    let key_id = list[0]["key_id"].as_str().unwrap().to_owned();
    assert_eq!(key_id.len(), 16);
    assert!(list.len() <= 1_000);
    for pair in list.windows(2) {
        assert!(pair[0]["position"].as_i64() >= pair[1]["position"].as_i64());
        assert_eq!(pair[1]["key_id"], key_id.as_str());
    }

    // `shura checkpoint` prints one JSON object and stores it: served first (newest first).
    let printed = shura(&db.url, &["checkpoint", "--key", key]);
    assert!(printed.status.success(), "{printed:?}");
    let printed: Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(printed["position"], position);
    let list = served(&server).await;
    assert_eq!(list[0], printed);
    server.stop().await;

    // What was served verifies against the public key.
    let file = dir.path().join("checkpoints.ndjson");
    let lines: Vec<String> = list.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let verify = |public: &str| {
        shura(
            &db.url,
            &[
                "verify",
                "--checkpoint",
                file.to_str().unwrap(),
                "--public-key",
                public,
            ],
        )
    };
    let good = verify(&format!("{key}.pub"));
    let stdout = String::from_utf8_lossy(&good.stdout).into_owned();
    assert!(good.status.success(), "{good:?}");
    assert_eq!(stdout.matches(": holds").count(), list.len(), "{stdout}");

    // Another key's public key: every checkpoint refused for its key id.
    let foreign = verify(&format!("{other}.pub"));
    let stdout = String::from_utf8_lossy(&foreign.stdout).into_owned();
    assert_eq!(foreign.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("REFUSED: line 1, position {position} ")),
        "{stdout}"
    );
    assert!(stdout.contains("key id"), "{stdout}");

    // A forged signature on the second line: that one is named, the others hold.
    let mut forged = list.clone();
    let signature = forged[1]["signature"].as_str().unwrap().to_owned();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    forged[1]["signature"] = Value::from(format!("{flipped}{}", &signature[1..]));
    let lines: Vec<String> = forged.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let refused = verify(&format!("{key}.pub"));
    let stdout = String::from_utf8_lossy(&refused.stdout).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{stdout}");
    let second = forged[1]["position"].as_i64().unwrap();
    assert!(
        stdout.contains(&format!("REFUSED: line 2, position {second} ")),
        "{stdout}"
    );
    assert!(stdout.contains("does not verify"), "{stdout}");
    assert_eq!(stdout.matches("REFUSED").count(), 1, "{stdout}");
}
