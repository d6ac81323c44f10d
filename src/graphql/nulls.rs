//! Field errors null the field that failed, when it is nullable, as GraphQL specifies
//! ("Handling Field Errors").
//!
//! async-graphql leaves a failed field out of its object instead, and an object that lost all
//! its selected fields becomes null: `participants { contact { email } }` read by a viewer gave
//! `participants: [null, ...]` in a `[Participant!]!` list. This extension resolves a failed
//! nullable field to `null`, keeps its error (with its path) for the response, and so leaves the
//! parent whole. An error on a non-null field is left to async-graphql.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, NextSubscribe,
    ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, Value};
use futures_util::stream::{BoxStream, StreamExt};

/// Installs [`NullableFieldErrors`] on a schema.
pub struct NullFailedFields;

impl ExtensionFactory for NullFailedFields {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NullableFieldErrors::default())
    }
}

/// One request's errors of nullable fields, until they join its response.
#[derive(Default)]
pub struct NullableFieldErrors {
    errors: Arc<Mutex<Vec<ServerError>>>,
}

/// Whether a field's type (as async-graphql writes it: `Contact`, `[Participant!]!`) admits
/// null.
fn nullable(return_type: &str) -> bool {
    !return_type.ends_with('!')
}

fn take(errors: &Mutex<Vec<ServerError>>) -> Vec<ServerError> {
    errors
        .lock()
        .map(|mut e| std::mem::take(&mut *e))
        .unwrap_or_default()
}

#[async_graphql::async_trait::async_trait]
impl Extension for NullableFieldErrors {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        response.errors.extend(take(&self.errors));
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let errors = self.errors.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                response.errors.extend(take(&errors));
                response
            })
            .boxed()
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = nullable(info.return_type);
        match next.run(ctx, info).await {
            Err(error) if nullable => {
                if let Ok(mut errors) = self.errors.lock() {
                    errors.push(error);
                }
                Ok(Some(Value::Null))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

    #[derive(SimpleObject)]
    #[graphql(complex)]
    struct Item {
        name: String,
    }

    #[async_graphql::ComplexObject]
    impl Item {
        async fn secret(&self) -> async_graphql::Result<Option<String>> {
            Err("refused".into())
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn items(&self) -> Vec<Item> {
            vec![Item { name: "a".into() }, Item { name: "b".into() }]
        }
    }

    fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(NullFailedFields)
            .finish()
    }

    #[tokio::test]
    async fn a_failed_nullable_field_is_null_and_its_parent_stays() {
        let response = schema().execute("{ items { secret } }").await;
        let data = response.data.into_json().unwrap_or_default();
        assert_eq!(
            data,
            serde_json::json!({"items": [{"secret": null}, {"secret": null}]})
        );
        assert_eq!(response.errors.len(), 2);
        let path = serde_json::to_value(&response.errors[1].path).unwrap_or_default();
        assert_eq!(path, serde_json::json!(["items", 1, "secret"]));
    }

    #[test]
    fn only_types_without_a_bang_are_nullable() {
        assert!(nullable("Contact"));
        assert!(nullable("[Participant!]"));
        assert!(!nullable("[Participant!]!"));
        assert!(!nullable("String!"));
    }
}
