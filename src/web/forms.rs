//! Forms declared once: each form is a list of [`Field`]s named by the domain command's own
//! JSON paths (`title.ar`, `schedule.start.year`, `agreement.budget.amount`). From that one list
//! the page renders its inputs ([`FormView`]), the submitted values become the command's JSON
//! ([`to_json`]), and the domain's answer, which names the field by the same path, lands next
//! to the input that holds it, in the viewer's language, with every typed value kept.
//!
//! No rule lives here: a form only says what shape a value has (a number, a choice) so that
//! `"2025"` reaches the domain as the number it is; whether 2025 is a valid year is the domain's
//! to say.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::i18n::Tr;
use crate::auth::WriteError;
use crate::commands::CommandError;
use crate::domain::{DomainError, Rule};
use crate::store::StoreError;

/// What shape a field's value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines of text.
    TextArea,
    /// A whole number (sent to the domain as a JSON number).
    Int,
    /// An exact decimal (sent as a string, as the domain reads decimals).
    Decimal,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// A time of day, `HH:MM`.
    Time,
    /// One of fixed values; the labels are the catalogue's `<prefix>-<value>` messages.
    Select {
        /// The values (the domain's snake_case names).
        values: &'static [&'static str],
        /// The catalogue prefix of their labels.
        prefix: &'static str,
    },
    /// An organisation, chosen by name as one types (its id is sent).
    Organisation,
    /// A person, chosen by name as one types (its id is sent).
    Person,
    /// Several comma-separated words (themes), sent as a list.
    List,
    /// A value the page sets (an id chosen when the form was drawn).
    Hidden,
}

/// One field of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The command's JSON path of the value.
    pub name: &'static str,
    /// Its shape.
    pub kind: Kind,
    /// The catalogue id of its label.
    pub label: &'static str,
    /// Whether the page marks it required (the domain decides).
    pub required: bool,
}

impl Field {
    /// A field.
    pub const fn new(name: &'static str, kind: Kind, label: &'static str) -> Field {
        Field {
            name,
            kind,
            label,
            required: false,
        }
    }

    /// The same field, marked required.
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// The writing direction of the input: right to left for an Arabic text (`*.ar`), left to
    /// right for a French one, the page's otherwise.
    pub fn dir(&self) -> &'static str {
        if self.name.ends_with(".ar") {
            "rtl"
        } else if self.name.ends_with(".fr") {
            "ltr"
        } else {
            "auto"
        }
    }

    /// The `id` of its input (paths have dots, which CSS selectors would read as classes).
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace(['.', '[', ']'], "-"))
    }
}

/// A field's error, named by the domain path, with its message in the viewer's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The domain path.
    pub field: String,
    /// The rule's code.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

/// A rule's message in the viewer's language: `rule-<code>` with the rule's values as
/// arguments (`$max`, `$min`...).
pub fn rule_message(tr: &Tr, rule: &Rule) -> String {
    let id = format!("rule-{}", rule.code().to_lowercase().replace('_', "-"));
    let values: Vec<(&str, String)> = match serde_json::to_value(rule) {
        Ok(Value::Object(members)) => members
            .into_iter()
            .filter(|(name, _)| name != "rule")
            .map(|(name, value)| {
                let text = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (leak_arg(&name), text)
            })
            .collect(),
        _ => Vec::new(),
    };
    tr.args(&id, &values)
}

/// The argument names of rules are a fixed set of field names; mapped to static names so that
/// Fluent's arguments can borrow them.
fn leak_arg(name: &str) -> &'static str {
    match name {
        "max" => "max",
        "min" => "min",
        "found" => "found",
        "what" => "what",
        "from" => "from",
        "to" => "to",
        "code" => "code",
        "actual" => "actual",
        "expected" => "expected",
        "status" => "status",
        _ => "value",
    }
}

/// The submitted values of a form, as sent (`application/x-www-form-urlencoded` pairs).
pub type Submitted = Vec<(String, String)>;

/// The first value of `name` in a submission.
pub fn value<'a>(submitted: &'a Submitted, name: &str) -> Option<&'a str> {
    submitted
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.as_str())
}

/// The JSON a form's submission stands for: each declared field's value at its path, empty ones
/// left out (absent, so the domain's defaults apply); undeclared names are ignored. A value that
/// is not of its field's shape (`"twenty"` for a year) is an error naming the field.
pub fn to_json(fields: &[Field], submitted: &Submitted, tr: &Tr) -> Result<Value, Vec<FieldError>> {
    let mut root = Value::Object(Map::new());
    let mut errors = Vec::new();
    for field in fields {
        let Some(raw) = value(submitted, field.name) else {
            continue;
        };
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let parsed = match field.kind {
            Kind::Int => raw.parse::<i64>().map(Value::from).ok(),
            Kind::List => Some(Value::Array(
                raw.split([',', '،'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )),
            Kind::Decimal => Some(Value::String(
                raw.replace([' ', '\u{202f}', '\u{a0}'], "")
                    .replace(',', "."),
            )),
            _ => Some(Value::String(raw.to_owned())),
        };
        match parsed {
            Some(parsed) => insert(&mut root, field.name, parsed),
            None => errors.push(FieldError {
                field: field.name.to_owned(),
                code: "INVALID_FORMAT",
                message: tr.t("rule-not-a-number"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(root)
    } else {
        Err(errors)
    }
}

/// Sets `value` at a dotted path, making the objects on the way.
fn insert(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Object(members) = node else {
            return;
        };
        if parts.peek().is_none() {
            members.insert(part.to_owned(), value);
            return;
        }
        node = members
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Decodes a command from its JSON with the domain's own deserialisation; a shape error names
/// the field by its path.
pub fn decode<C: DeserializeOwned>(json: &Value, tr: &Tr) -> Result<C, FieldError> {
    serde_path_to_error::deserialize::<_, C>(json).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let (field, code, id) = if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            let field = match path.as_str() {
                "" | "." => name.to_owned(),
                path => format!("{path}.{name}"),
            };
            (field, "REQUIRED", "rule-required")
        } else {
            (path, "INVALID_FORMAT", "rule-invalid-value")
        };
        FieldError {
            field,
            code,
            message: tr.t(id),
        }
    })
}

/// Finds the field a shape error means when serde could not say where it is. A command that
/// flattens a struct (`PlanConsultation` flattens its details) is read through a buffer that
/// tracks no path, so a missing `place.name` comes back as a bare `name`. The field meant is the
/// declared one with that segment that was left empty while something beside it was filled in
/// (a city typed without the place's name).
pub fn locate(mut error: FieldError, fields: &[Field], submitted: &Submitted) -> FieldError {
    let bare = error.field.as_str();
    let declared = |path: &str| {
        fields
            .iter()
            .any(|f| f.name == path || f.name.starts_with(&format!("{path}.")))
    };
    if bare.is_empty() || bare.contains('.') || declared(bare) {
        return error;
    }
    let filled = |prefix: &str| {
        fields.iter().any(|f| {
            f.name.starts_with(prefix)
                && value(submitted, f.name).is_some_and(|v| !v.trim().is_empty())
        })
    };
    let meant = fields.iter().find_map(|f| {
        let at = f.name.find(&format!(".{bare}"))?;
        let parent = &f.name[..at];
        let path = format!("{parent}.{bare}");
        let empty = !filled(&format!("{path}."))
            && value(submitted, &path).is_none_or(|v| v.trim().is_empty());
        (empty && filled(&format!("{parent}."))).then_some(path)
    });
    if let Some(path) = meant {
        error.field = path;
    }
    error
}

/// What a refused write means for a form: the field at fault and its message, or a message for
/// the whole form (a conflict, a refusal); `Err` for failures that are not the user's (logged).
pub fn write_error(error: WriteError, tr: &Tr) -> Result<FormProblem, super::WebError> {
    Ok(match error {
        WriteError::Refused(_) => FormProblem::Form(tr.t("error-forbidden-write")),
        WriteError::Command(CommandError::Domain(DomainError::Validation { field, rule })) => {
            FormProblem::Field(FieldError {
                message: rule_message(tr, &rule),
                code: rule.code(),
                field,
            })
        }
        WriteError::Command(CommandError::Store(StoreError::Conflict { actual, .. })) => {
            FormProblem::Conflict { actual }
        }
        WriteError::Command(CommandError::Store(StoreError::Validation { field, .. })) => {
            FormProblem::Field(FieldError {
                field,
                code: "INVALID_FORMAT",
                message: tr.t("rule-invalid-value"),
            })
        }
        WriteError::Command(error) => return Err(super::WebError::Internal(error.to_string())),
    })
}

/// Why a form was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormProblem {
    /// One field is at fault.
    Field(FieldError),
    /// The whole form (shown above it).
    Form(String),
    /// Someone else changed the record since the form was drawn; it is now at `actual`.
    Conflict {
        /// The record's version now.
        actual: i64,
    },
}

/// A form ready to draw: its fields with the values to show and their errors.
#[derive(Debug, Clone)]
pub struct FormView {
    /// The fields.
    pub fields: Vec<FieldView>,
    /// A message for the whole form.
    pub message: Option<String>,
}

/// One field ready to draw.
#[derive(Debug, Clone)]
pub struct FieldView {
    /// The declaration.
    pub field: Field,
    /// Its label.
    pub label: String,
    /// The value to show (what was typed, on an error).
    pub value: String,
    /// Its error message.
    pub error: Option<String>,
    /// For choices: the values and their labels.
    pub options: Vec<(String, String)>,
}

impl FieldView {
    /// Whether `option` is the selected one.
    pub fn selected(&self, option: &str) -> bool {
        self.value == option
    }

    /// The input's `type`.
    pub fn input_type(&self) -> &'static str {
        match self.field.kind {
            Kind::Int => "number",
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::Hidden => "hidden",
            // Decimals keep their exact text ("1 250 000,50" is read as typed).
            _ => "text",
        }
    }

    /// `inputmode` for phones' keyboards.
    pub fn input_mode(&self) -> &'static str {
        match self.field.kind {
            Kind::Int => "numeric",
            Kind::Decimal => "decimal",
            _ => "text",
        }
    }
}

impl FormView {
    /// The form with the given values (typed or current) and errors.
    pub fn new(
        fields: &[Field],
        values: &HashMap<String, String>,
        errors: &[FieldError],
        tr: &Tr,
    ) -> FormView {
        let fields = fields
            .iter()
            .map(|field| FieldView {
                field: *field,
                label: tr.t(field.label),
                value: values.get(field.name).cloned().unwrap_or_default(),
                error: errors
                    .iter()
                    .find(|e| {
                        e.field == field.name || e.field.starts_with(&format!("{}.", field.name))
                    })
                    .map(|e| e.message.clone()),
                options: match field.kind {
                    Kind::Select { values, prefix } => values
                        .iter()
                        .map(|v| ((*v).to_owned(), tr.value(prefix, v)))
                        .collect(),
                    _ => Vec::new(),
                },
            })
            .collect::<Vec<_>>();
        // An error no field holds (a rule on the whole command) is shown above the form.
        let message = errors
            .iter()
            .find(|e| !fields.iter().any(|f| f.error.as_ref() == Some(&e.message)))
            .map(|e| e.message.clone());
        FormView { fields, message }
    }

    /// An empty form.
    pub fn empty(fields: &[Field], tr: &Tr) -> FormView {
        FormView::new(fields, &HashMap::new(), &[], tr)
    }

    /// The form as submitted, with errors.
    pub fn submitted(
        fields: &[Field],
        submitted: &Submitted,
        errors: &[FieldError],
        tr: &Tr,
    ) -> FormView {
        let values = submitted
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        FormView::new(fields, &values, errors, tr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    const FIELDS: &[Field] = &[
        Field::new("title.ar", Kind::Text, "field-title-ar").required(),
        Field::new("schedule.start.year", Kind::Int, "field-year"),
        Field::new("themes", Kind::List, "field-themes"),
        Field::new("budget.amount", Kind::Decimal, "field-amount"),
    ];

    fn submitted(pairs: &[(&str, &str)]) -> Submitted {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fields_become_the_commands_json_by_their_paths() {
        let tr = Tr::new(Lang::Fr);
        let json = to_json(
            FIELDS,
            &submitted(&[
                ("title.ar", " لقاء "),
                ("schedule.start.year", "2025"),
                ("themes", "export, industrie،تصدير"),
                ("budget.amount", "1 250 000,50"),
                ("undeclared", "x"),
            ]),
            &tr,
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "title": {"ar": "لقاء"},
                "schedule": {"start": {"year": 2025}},
                "themes": ["export", "industrie", "تصدير"],
                "budget": {"amount": "1250000.50"},
            })
        );
    }

    #[test]
    fn a_value_of_the_wrong_shape_names_its_field_and_keeps_what_was_typed() {
        let tr = Tr::new(Lang::Fr);
        let form = submitted(&[("schedule.start.year", "vingt"), ("title.ar", "لقاء")]);
        let errors = to_json(FIELDS, &form, &tr).unwrap_err();
        assert_eq!(errors[0].field, "schedule.start.year");
        let view = FormView::submitted(FIELDS, &form, &errors, &tr);
        assert_eq!(view.fields[1].value, "vingt");
        assert!(view.fields[1].error.is_some());
        assert_eq!(view.fields[0].value, "لقاء");
        assert!(view.fields[0].error.is_none());
    }

    #[test]
    fn a_bare_missing_field_is_found_beside_what_was_filled_in() {
        const PLACE: &[Field] = &[
            Field::new("title.ar", Kind::Text, "field-title-ar"),
            Field::new("place.name.ar", Kind::Text, "field-place"),
            Field::new("place.city.ar", Kind::Text, "field-city"),
        ];
        let error = || FieldError {
            field: "name".into(),
            code: "REQUIRED",
            message: "required".into(),
        };
        let with_city = submitted(&[("title.ar", "لقاء"), ("place.city.ar", "فاس")]);
        assert_eq!(locate(error(), PLACE, &with_city).field, "place.name");
        // Nothing typed around it: no guess.
        let without = submitted(&[("title.ar", "لقاء")]);
        assert_eq!(locate(error(), PLACE, &without).field, "name");
        // A path serde gave is kept.
        let named = FieldError {
            field: "title".into(),
            ..error()
        };
        assert_eq!(locate(named, PLACE, &with_city).field, "title");
    }

    #[test]
    fn rule_messages_carry_the_rules_values() {
        let fr = Tr::new(Lang::Fr);
        let message = rule_message(&fr, &Rule::TooLong { max: 200 });
        assert!(message.contains("200"), "{message}");
        let ar = Tr::new(Lang::Ar);
        assert_ne!(rule_message(&ar, &Rule::Required), "rule-required");
    }
}
