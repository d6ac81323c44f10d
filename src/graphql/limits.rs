//! What a GraphQL request may cost, checked before anything recursive or expensive runs.
//!
//! Three checks, each linear in the request's size and none of them recursive over what a
//! client controls:
//! - **Nesting**: the brackets of a document (`{`, `[`, `(`) and of a JSON body (`{`, `[`) are
//!   counted by a flat scan before any parser sees them. The parsers (pest for GraphQL, serde for
//!   JSON) and the validators recurse once per level, so a deep enough request would overflow the
//!   thread's stack and abort the process; here it is refused with `LIMIT_EXCEEDED`.
//! - **Expanded size**: fragments can spread other fragments, so a 1 kB document can stand for
//!   2^30 fields (`F1 { ...F0 ...F0 } F2 { ...F1 ...F1 }` ...). The validators walk that
//!   expansion, synchronously, ignoring timeouts and disconnects. The size of every operation
//!   and fragment *as expanded* is computed here from the parsed document, fragment by
//!   fragment (each once, iteratively), without expanding anything.
//! - **Control characters**: a `\u0000` escape in a string literal. PostgreSQL cannot store NUL
//!   in text, SQLite can, so the same request must be refused alike on both.
//!
//! Cost per field (aliases included: each alias is a field) is async-graphql's complexity,
//! limited in [`super::schema`]; the expensive root fields declare their own cost.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};

use crate::domain::common::is_refused_control;
use crate::error::{ApiError, Code};

/// Deepest bracket nesting accepted in a document or a JSON body. The deepest legitimate
/// document (the standard introspection query) nests about 20 levels.
pub const MAX_NESTING: usize = 64;
/// Most fields a document may stand for once every fragment spread is expanded (per operation
/// and per fragment).
pub const MAX_EXPANDED_FIELDS: u64 = 2_000;
/// Deepest selection of fields accepted, fragments spread and introspection not counted.
pub const MAX_DEPTH: usize = 12;
/// Most fragment definitions in one document.
pub const MAX_FRAGMENTS: usize = 500;

/// Why a request was refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// Would expand to more than [`MAX_EXPANDED_FIELDS`] fields.
    TooLarge {
        /// The operation or fragment at fault.
        name: String,
    },
    /// Fields nested deeper than [`MAX_DEPTH`] (introspection not counted).
    TooDeepSelection {
        /// The operation at fault.
        name: String,
    },
    /// More than [`MAX_FRAGMENTS`] fragments.
    TooManyFragments,
    /// A fragment spreads itself, directly or not.
    FragmentCycle {
        /// A fragment on the cycle.
        name: String,
    },
    /// A string literal holds a control character (`\u0000`...).
    ControlCharacter,
}

impl Refused {
    /// The boundary error a client sees.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            Refused::TooDeep => ApiError::new(
                Code::LimitExceeded,
                format!("the request is nested deeper than {MAX_NESTING} levels"),
            ),
            Refused::TooLarge { name } => ApiError::new(
                Code::LimitExceeded,
                format!(
                    "{name} expands to more than {MAX_EXPANDED_FIELDS} fields once its fragments are spread"
                ),
            ),
            Refused::TooDeepSelection { name } => ApiError::new(
                Code::LimitExceeded,
                format!("{name} nests fields deeper than {MAX_DEPTH} levels"),
            ),
            Refused::TooManyFragments => ApiError::new(
                Code::LimitExceeded,
                format!("the document defines more than {MAX_FRAGMENTS} fragments"),
            ),
            Refused::FragmentCycle { name } => ApiError::validation(
                "query",
                "FRAGMENT_CYCLE",
                format!("fragment {name} spreads itself"),
            ),
            Refused::ControlCharacter => ApiError::validation(
                "query",
                "CONTROL_CHARACTER",
                "a string in the query holds a control character (such as \\u0000)",
            ),
        }
    }
}

/// Checks the bracket nesting of a GraphQL document, skipping strings, block strings and
/// comments, and refuses `\u` escapes of control characters inside strings.
pub fn check_document_text(text: &str) -> Result<(), Refused> {
    let bytes = text.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // Block string: no escapes but \""" ; ends at the next unescaped """.
                i += 3;
                loop {
                    if i >= bytes.len() {
                        return Ok(()); // unterminated: the parser says so
                    }
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 2;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        if bytes.get(i + 1) == Some(&b'u') && escapes_control(&bytes[i + 2..]) {
                            return Err(Refused::ControlCharacter);
                        }
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refused::TooDeep);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Whether the hex digits after `\u` (`0000` or `{0}`) name a C0 control other than tab, line
/// feed and carriage return, or DEL.
fn escapes_control(rest: &[u8]) -> bool {
    let digits: &[u8] = match rest.first() {
        Some(b'{') => {
            let end = rest.iter().position(|b| *b == b'}').unwrap_or(rest.len());
            &rest[1..end.max(1)]
        }
        _ => &rest[..rest.len().min(4)],
    };
    let Ok(text) = std::str::from_utf8(digits) else {
        return false;
    };
    u32::from_str_radix(text, 16)
        .ok()
        .and_then(char::from_u32)
        .is_some_and(is_refused_control)
}

/// Checks the bracket nesting of a JSON text (a request body or the `variables` of a GET),
/// skipping strings.
pub fn check_json_nesting(bytes: &[u8]) -> Result<(), Refused> {
    let mut depth: usize = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refused::TooDeep);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses control characters in the strings of the variables, naming the variable's path.
pub fn check_variables(variables: &serde_json::Value) -> Result<(), ApiError> {
    // Iterative: the nesting is already bounded, but a stack of our own costs nothing.
    let mut stack: Vec<(String, &serde_json::Value)> = vec![("variables".to_owned(), variables)];
    while let Some((path, value)) = stack.pop() {
        match value {
            serde_json::Value::String(s) if s.chars().any(is_refused_control) => {
                return Err(ApiError::validation(
                    path,
                    "CONTROL_CHARACTER",
                    "the text holds a control character (such as \\u0000)",
                ));
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    stack.push((format!("{path}[{i}]"), item));
                }
            }
            serde_json::Value::Object(fields) => {
                for (key, item) in fields {
                    stack.push((format!("{path}.{key}"), item));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// What one selection set holds, spreads not expanded: its fields (at any depth inside it), its
/// deepest field, and each fragment it spreads with how many times and at what depth.
#[derive(Default)]
struct Shape<'a> {
    fields: u64,
    depth: u64,
    /// Per fragment: how many spreads, and the deepest level one sits at (`None`: only inside
    /// introspection, whose depth is not counted).
    spreads: HashMap<&'a str, (u64, Option<u64>)>,
}

/// Introspection's root fields: the tools' standard query nests `ofType` nine levels deep to
/// describe a type, so depth is not counted below them (size and complexity still are).
fn is_introspection(name: &str) -> bool {
    matches!(name, "__schema" | "__type")
}

/// Counts fields and spreads of a selection set at `level` (the number of fields above it).
/// Recursion here follows the document's own nesting, which [`check_document_text`] bounded.
fn shape_of<'a>(set: &'a SelectionSet, shape: &mut Shape<'a>, level: u64, counted: bool) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                shape.fields = shape.fields.saturating_add(1);
                let counted = counted && !is_introspection(field.node.name.node.as_str());
                let level = level.saturating_add(1);
                if counted {
                    shape.depth = shape.depth.max(level);
                }
                shape_of(&field.node.selection_set.node, shape, level, counted);
            }
            Selection::FragmentSpread(spread) => {
                let entry = shape
                    .spreads
                    .entry(spread.node.fragment_name.node.as_str())
                    .or_insert((0, None));
                entry.0 = entry.0.saturating_add(1);
                if counted {
                    entry.1 = Some(entry.1.map_or(level, |l| l.max(level)));
                }
            }
            Selection::InlineFragment(inline) => {
                shape_of(&inline.node.selection_set.node, shape, level, counted);
            }
        }
    }
}

/// A fragment's or operation's size and depth once its spreads are expanded.
#[derive(Debug, Clone, Copy)]
struct Expanded {
    size: u64,
    depth: u64,
}

/// Combines a shape with the expansions of the fragments it spreads (unknown ones count 0:
/// validation reports them).
fn expand(shape: &Shape, done: &HashMap<&str, Option<Expanded>>) -> Expanded {
    let mut total = Expanded {
        size: shape.fields,
        depth: shape.depth,
    };
    for (child, (count, level)) in &shape.spreads {
        let child = done
            .get(child)
            .copied()
            .flatten()
            .unwrap_or(Expanded { size: 0, depth: 0 });
        total.size = total
            .size
            .saturating_add(count.saturating_mul(child.size.saturating_add(1)));
        if let Some(level) = level {
            total.depth = total.depth.max(level.saturating_add(child.depth));
        }
    }
    total
}

/// The expanded size and depth of every fragment and operation, each computed once,
/// iteratively (a chain of thousands of fragments must not recurse either). Sizes saturate, so
/// no count overflows.
pub fn check_expansion(doc: &ExecutableDocument) -> Result<(), Refused> {
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err(Refused::TooManyFragments);
    }
    let shapes: HashMap<&str, Shape> = doc
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut shape = Shape::default();
            shape_of(&fragment.node.selection_set.node, &mut shape, 0, true);
            (name.as_str(), shape)
        })
        .collect();
    // Post-order over the spread graph with an explicit stack; `None` marks "in progress".
    let mut done: HashMap<&str, Option<Expanded>> = HashMap::with_capacity(shapes.len());
    for root in shapes.keys() {
        if done.contains_key(root) {
            continue;
        }
        let mut stack: Vec<(&str, bool)> = vec![(root, false)];
        while let Some((name, children_done)) = stack.pop() {
            let Some(shape) = shapes.get(name) else {
                continue; // an unknown fragment: validation reports it
            };
            if children_done {
                let expanded = expand(shape, &done);
                if expanded.size > MAX_EXPANDED_FIELDS {
                    return Err(Refused::TooLarge {
                        name: format!("fragment {name}"),
                    });
                }
                done.insert(name, Some(expanded));
                continue;
            }
            match done.get(name) {
                Some(Some(_)) => continue,
                Some(None) => {
                    return Err(Refused::FragmentCycle {
                        name: name.to_owned(),
                    })
                }
                None => {}
            }
            done.insert(name, None);
            stack.push((name, true));
            for child in shape.spreads.keys() {
                match done.get(child) {
                    Some(Some(_)) => {}
                    Some(None) => {
                        return Err(Refused::FragmentCycle {
                            name: (*child).to_owned(),
                        })
                    }
                    None => stack.push((child, false)),
                }
            }
        }
    }
    for (name, operation) in doc.operations.iter() {
        let mut shape = Shape::default();
        shape_of(&operation.node.selection_set.node, &mut shape, 0, true);
        let expanded = expand(&shape, &done);
        let name = || name.map_or_else(|| "the operation".to_owned(), |n| format!("operation {n}"));
        if expanded.size > MAX_EXPANDED_FIELDS {
            return Err(Refused::TooLarge { name: name() });
        }
        if expanded.depth > MAX_DEPTH as u64 {
            return Err(Refused::TooDeepSelection { name: name() });
        }
    }
    Ok(())
}

fn server_error(refused: &Refused) -> ServerError {
    refused.to_api_error().into_server_error()
}

/// In a request's data when its document was parsed, and passed [`check_document_text`] and
/// [`check_expansion`], before it was handed to async-graphql already parsed
/// (`Request::set_parsed_query`): the extension then neither parses nor checks it again.
#[derive(Debug, Clone, Copy)]
pub struct Checked;

/// Set when a request got past parsing and validation into execution: what tells a request
/// error (no `data` at all, GraphQL over HTTP) from an execution whose errors nulled `data`.
#[derive(Debug, Clone, Default)]
pub struct ExecutionMark(pub Arc<std::sync::atomic::AtomicBool>);

impl ExecutionMark {
    /// Whether execution began.
    pub fn executed(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The schema extension that runs these checks on every request, whatever its transport
/// (HTTP or WebSocket), before async-graphql parses and validates the document.
pub struct RequestLimits;

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExtension)
    }
}

struct RequestLimitsExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // The HTTP edge parses and checks the document itself and hands it over already parsed
        // (`Checked`); other transports (WebSocket) are checked here. Either way async-graphql's
        // own parse and depth check (next) run only on a document whose expansion is known to be
        // small, since that depth check expands spreads.
        if ctx.data_opt::<Checked>().is_none() {
            check_document_text(query).map_err(|r| server_error(&r))?;
            let doc = async_graphql::parser::parse_query(query).map_err(ServerError::from)?;
            check_expansion(&doc).map_err(|r| server_error(&r))?;
        }
        next.run(ctx, query, variables).await.map_err(|mut error| {
            tag_limit(&mut error);
            error
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        if let Some(mark) = ctx.data_opt::<ExecutionMark>() {
            mark.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        next.run(ctx, operation_name).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        // async-graphql words its own limits in English only; give them our code here, once.
        next.run(ctx).await.map_err(|mut errors| {
            errors.iter_mut().for_each(tag_limit);
            errors
        })
    }
}

/// async-graphql words its own limits (depth, complexity, recursion) in English only: give
/// them our code, so that every limit reads `LIMIT_EXCEEDED` whichever check caught it.
fn tag_limit(error: &mut ServerError) {
    const LIMITS: [&str; 4] = [
        "too deep",
        "too complex",
        "recursion depth",
        "Recursion limit",
    ];
    if LIMITS.iter().any(|l| error.message.contains(l)) {
        let code = Code::LimitExceeded.as_str();
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubling(levels: usize) -> String {
        let mut doc = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
        for i in 1..=levels {
            doc.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        doc
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing() {
        let deep = format!(
            "{{ __typename(x: {}1{}) }}",
            "[".repeat(2_000),
            "]".repeat(2_000)
        );
        assert_eq!(check_document_text(&deep), Err(Refused::TooDeep));
        let objects = format!(
            "{{ a(x: {}1{}) }}",
            "{a:".repeat(100_000),
            "}".repeat(100_000)
        );
        assert_eq!(check_document_text(&objects), Err(Refused::TooDeep));
        let shallow = format!("{{ a(x: {}1{}) }}", "[".repeat(20), "]".repeat(20));
        assert_eq!(check_document_text(&shallow), Ok(()));
        // Brackets inside strings, block strings and comments are text, not nesting.
        let quoted = format!(
            "{{ a(x: \"{b}\", y: \"\"\"{b}\"\"\") }} # {b}",
            b = "[".repeat(500)
        );
        assert_eq!(check_document_text(&quoted), Ok(()));
        let json = format!("{{\"v\": {}1{}}}", "[".repeat(1_000), "]".repeat(1_000));
        assert_eq!(check_json_nesting(json.as_bytes()), Err(Refused::TooDeep));
        let string = format!("{{\"v\": \"{}\\\"\"}}", "[".repeat(1_000));
        assert_eq!(check_json_nesting(string.as_bytes()), Ok(()));
    }

    #[test]
    fn fragment_doubling_is_measured_without_expanding() {
        let doc = async_graphql::parser::parse_query(doubling(30)).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            check_expansion(&doc),
            Err(Refused::TooLarge { .. })
        ));
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        // Six doublings (64 fields) are fine.
        let small = async_graphql::parser::parse_query(doubling(6)).unwrap();
        assert_eq!(check_expansion(&small), Ok(()));
    }

    #[test]
    fn long_fragment_chains_and_cycles_do_not_recurse() {
        let mut doc = String::from("query { ...F0 } fragment F499 on Query { __typename }");
        for i in 0..499 {
            doc.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
        }
        let parsed = async_graphql::parser::parse_query(&doc).unwrap();
        assert_eq!(check_expansion(&parsed), Ok(()));
        let cycle = async_graphql::parser::parse_query(
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        )
        .unwrap();
        assert!(matches!(
            check_expansion(&cycle),
            Err(Refused::FragmentCycle { .. })
        ));
    }

    #[test]
    fn depth_counts_through_fragments_but_not_introspection() {
        let nested = |levels: usize| format!("{} x {}", "a {".repeat(levels), "}".repeat(levels));
        let deep = async_graphql::parser::parse_query(format!("{{ {} }}", nested(13))).unwrap();
        assert!(matches!(
            check_expansion(&deep),
            Err(Refused::TooDeepSelection { .. })
        ));
        let ok = async_graphql::parser::parse_query(format!("{{ {} }}", nested(11))).unwrap();
        assert_eq!(check_expansion(&ok), Ok(()));
        // Eight levels, then a fragment of six more: fourteen.
        let spread = format!(
            "{{ {} ...F {} }} fragment F on T {{ {} }}",
            "a {".repeat(8),
            "}".repeat(8),
            nested(5)
        );
        let spread = async_graphql::parser::parse_query(spread).unwrap();
        assert!(matches!(
            check_expansion(&spread),
            Err(Refused::TooDeepSelection { .. })
        ));
        let introspection = async_graphql::parser::parse_query(include_str!(
            "../../tests/fixtures/introspection.graphql"
        ))
        .unwrap();
        assert_eq!(check_expansion(&introspection), Ok(()));
    }

    #[test]
    fn aliases_count_as_fields() {
        let many: String = (0..2_500).map(|i| format!(" a{i}: __typename")).collect();
        let doc = async_graphql::parser::parse_query(format!("{{{many} }}")).unwrap();
        assert!(matches!(
            check_expansion(&doc),
            Err(Refused::TooLarge { .. })
        ));
    }

    #[test]
    fn control_characters_are_refused_in_literals_and_variables() {
        assert_eq!(
            check_document_text(r#"{ search(text: "a\u0000b") }"#),
            Err(Refused::ControlCharacter)
        );
        assert_eq!(
            check_document_text(r#"{ search(text: "a\u000Ab") }"#),
            Ok(())
        );
        assert_eq!(check_document_text(r#"{ search(text: "\u0627") }"#), Ok(()));
        let error =
            check_variables(&serde_json::json!({"input": {"reason": "x\u{0}"}})).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("variables.input.reason"));
        assert!(check_variables(&serde_json::json!({"t": "سطر\nآخر"})).is_ok());
    }
}
