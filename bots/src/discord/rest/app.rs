//! The command layer's endpoints: application commands, interaction
//! responses and direct messages, and the bot-token reads `crier check
//! --online` makes.

use reqwest::Method;
use serde_json::Value;

use super::{Body, CreatedMessage, RestClient, RestError, Webhook, message_from};
use crate::discord::ratelimit::RouteKey;

/// The command layer's endpoints: application commands, interaction
/// responses (initial callback, `@original`, follow-ups) and direct
/// messages. Interaction tokens are secrets like webhook tokens: they only
/// travel in URLs, which errors never show.
impl RestClient {
    fn app_route(template: &'static str, app: u64) -> RouteKey {
        RouteKey {
            template,
            major: app.to_string(),
        }
    }

    /// `GET /applications/@me` (the application id, when not configured).
    /// `GET {api}/v10{path}` with the bot token (reads for `crier check
    /// --online`: `/users/@me`, `/channels/{id}`, a guild's roles…);
    /// `major` is the route's top-level resource.
    pub async fn get_json(
        &self,
        template: &'static str,
        major: &str,
        path: &str,
    ) -> Result<Value, RestError> {
        let url = format!("{}/v10{path}", self.api);
        let route = RouteKey {
            template,
            major: major.to_string(),
        };
        self.call(Method::GET, url, route, None, true)
            .await?
            .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    /// `GET /webhooks/{id}/{token}`: the webhook, if it still exists.
    pub async fn get_webhook(&self, w: &Webhook) -> Result<Value, RestError> {
        self.call(
            Method::GET,
            Self::webhook_url(w, "", None, false, false),
            Self::webhook_route("GET /webhooks/{}/{}", w),
            None,
            false,
        )
        .await?
        .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    pub async fn current_application(&self) -> Result<Value, RestError> {
        let url = format!("{}/v10/applications/@me", self.api);
        self.call(
            Method::GET,
            url,
            Self::app_route("GET /applications/@me", 0),
            None,
            true,
        )
        .await?
        .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    /// Replace the application's slash commands: in one guild (they show
    /// at once) or globally.
    pub async fn bulk_overwrite_commands(
        &self,
        app: u64,
        guild: Option<u64>,
        commands: &Value,
    ) -> Result<Value, RestError> {
        let (url, route) = match guild {
            Some(g) => (
                format!("{}/v10/applications/{app}/guilds/{g}/commands", self.api),
                Self::app_route("PUT /applications/{}/guilds/{}/commands", app),
            ),
            None => (
                format!("{}/v10/applications/{app}/commands", self.api),
                Self::app_route("PUT /applications/{}/commands", app),
            ),
        };
        self.call(Method::PUT, url, route, Some(commands), true)
            .await?
            .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    /// The initial response to an interaction (within 3 seconds of it).
    pub async fn interaction_callback(
        &self,
        interaction: u64,
        token: &str,
        body: &Value,
    ) -> Result<(), RestError> {
        let url = format!(
            "{}/v10/interactions/{interaction}/{token}/callback",
            self.api
        );
        self.call(
            Method::POST,
            url,
            RouteKey {
                template: "POST /interactions/{}/{}/callback",
                major: interaction.to_string(),
            },
            Some(body),
            false,
        )
        .await
        .map(|_| ())
    }

    fn interaction_route(template: &'static str, token: &str) -> RouteKey {
        RouteKey {
            template,
            major: token.to_string(),
        }
    }

    /// Edit the original response (after a deferred one: create it).
    pub async fn edit_original(
        &self,
        app: u64,
        token: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}/messages/@original", self.api);
        self.call_message(
            Method::PATCH,
            url,
            Self::interaction_route("PATCH /webhooks/{}/{}/messages/@original", token),
            Some(body),
            false,
            "empty answer",
        )
        .await
    }

    pub async fn delete_original(&self, app: u64, token: &str) -> Result<(), RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}/messages/@original", self.api);
        self.call(
            Method::DELETE,
            url,
            Self::interaction_route("DELETE /webhooks/{}/{}/messages/@original", token),
            None,
            false,
        )
        .await
        .map(|_| ())
    }

    /// A follow-up message of an interaction (for 15 minutes after it).
    pub async fn followup(
        &self,
        app: u64,
        token: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}", self.api);
        self.call_message(
            Method::POST,
            url,
            Self::interaction_route("POST /webhooks/{}/{}", token),
            Some(body),
            false,
            "empty answer",
        )
        .await
    }

    /// A follow-up message with a file (multipart: `payload_json` and
    /// `files[0]`).
    pub async fn followup_with_file(
        &self,
        app: u64,
        token: &str,
        payload: &Value,
        name: &str,
        bytes: &[u8],
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}", self.api);
        let v = self
            .call_with(
                Method::POST,
                url,
                Self::interaction_route("POST /webhooks/{}/{}", token),
                Body::WithFile {
                    payload,
                    name,
                    bytes,
                },
                false,
                true,
            )
            .await?
            .ok_or_else(|| RestError::Decode("empty answer".into()))?;
        message_from(&v)
    }

    /// The bot's direct-message channel with a user.
    pub async fn create_dm(&self, user: u64) -> Result<String, RestError> {
        let url = format!("{}/v10/users/@me/channels", self.api);
        self.call_message(
            Method::POST,
            url,
            Self::app_route("POST /users/@me/channels", 0),
            Some(&serde_json::json!({"recipient_id": user.to_string()})),
            true,
            "empty answer",
        )
        .await
        .map(|c| c.id)
    }
}
