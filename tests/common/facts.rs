//! The seed fact sheets (`seeds/facts/*.toml`): every Arabic string they mark as verbatim and
//! every amount, as texts that must be found in the read models after seeding.

use std::path::Path;

use toml::Value;

/// One fact to find.
#[derive(Debug, Clone)]
pub struct Fact {
    /// The fact sheet.
    pub file: String,
    /// Where in it (`people[1].posts[0].title_ar`).
    pub path: String,
    /// The text as it appears in a JSON document (escaped like JSON string content).
    pub text: String,
}

/// Sections that are not facts of the article (page furniture, web corroboration).
const NOT_FACTS: [&str; 2] = ["external_corroboration", "page_extras"];

/// Every verbatim `*_ar` string and every integer amount of every fact sheet in `dir`.
pub fn verbatim_facts(dir: &Path) -> Vec<Fact> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("facts folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut facts = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        walk(&Value::Table(table), "", &file, &mut facts);
    }
    facts
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

fn walk(node: &Value, path: &str, file: &str, facts: &mut Vec<Fact>) {
    match node {
        Value::Table(table) => {
            let skip_all = table.get("verbatim").and_then(Value::as_bool) == Some(false);
            let skip: Vec<&str> = table
                .get("non_verbatim")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (key, value) in table {
                if NOT_FACTS.contains(&key.as_str()) {
                    continue;
                }
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.ends_with("_ar") && !skip_all && !skip.contains(&key.as_str()) {
                    let texts: Vec<&str> = match value {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    for text in texts {
                        facts.push(Fact {
                            file: file.to_owned(),
                            path: here.clone(),
                            text: json_escaped(text),
                        });
                    }
                }
                if matches!(key.as_str(), "budget_mad" | "value") {
                    if let Value::Integer(n) = value {
                        facts.push(Fact {
                            file: file.to_owned(),
                            path: here.clone(),
                            text: format!("\"{n}"),
                        });
                    }
                }
                walk(value, &here, file, facts);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), file, facts);
            }
        }
        _ => {}
    }
}
