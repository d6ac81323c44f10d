//! Upcasters: how an event written with an older payload shape is read in the current one.
//!
//! The log is never rewritten, so old shapes stay in it forever; each step turns version `n` of
//! one event type into version `n + 1`, and reads apply the steps in order.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// One step: the payload at version `n` in, the payload at version `n + 1` out.
pub type UpcastStep = Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// The registered upcasting steps, by event type and source version.
#[derive(Clone, Default)]
pub struct Upcasters {
    steps: HashMap<(String, i32), UpcastStep>,
}

impl std::fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<_> = self.steps.keys().collect();
        keys.sort();
        f.debug_struct("Upcasters").field("steps", &keys).finish()
    }
}

impl Upcasters {
    /// No upcasting step.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the step turning `event_type` at `from_version` into `from_version + 1`.
    pub fn register(
        mut self,
        event_type: impl Into<String>,
        from_version: i32,
        step: impl Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.steps
            .insert((event_type.into(), from_version), Arc::new(step));
        self
    }

    /// Applies every step registered from `version` on; returns the final version and payload.
    pub fn upcast(
        &self,
        event_type: &str,
        mut version: i32,
        mut payload: Value,
    ) -> Result<(i32, Value), (i32, String)> {
        while let Some(step) = self.steps.get(&(event_type.to_owned(), version)) {
            payload = step(payload).map_err(|reason| (version, reason))?;
            version += 1;
        }
        Ok((version, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_apply_in_order_until_the_current_version() {
        let upcasters = Upcasters::new()
            .register("Renamed", 1, |mut p| {
                let name = p["name"].take();
                Ok(json!({ "title": name }))
            })
            .register("Renamed", 2, |mut p| {
                p["lang"] = json!("ar");
                Ok(p)
            });
        let (version, payload) = upcasters
            .upcast("Renamed", 1, json!({"name": "شورى"}))
            .unwrap();
        assert_eq!(version, 3);
        assert_eq!(payload, json!({"title": "شورى", "lang": "ar"}));
        let (current, untouched) = upcasters.upcast("Other", 1, json!({})).unwrap();
        assert_eq!((current, untouched), (1, json!({})));
    }
}
