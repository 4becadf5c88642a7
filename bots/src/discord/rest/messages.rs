//! The endpoints delivery uses: channel messages (create, edit, delete,
//! crosspost) and webhook messages (execute, edit, delete).

use reqwest::Method;
use serde_json::Value;

use super::{Body, CreatedMessage, RestClient, RestError, Webhook};
use crate::discord::ratelimit::RouteKey;

impl RestClient {
    fn channel_route(template: &'static str, channel: &str) -> RouteKey {
        RouteKey {
            template,
            major: channel.to_string(),
        }
    }

    pub async fn create_message(
        &self,
        channel: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/channels/{channel}/messages", self.api);
        self.call_message(
            Method::POST,
            url,
            Self::channel_route("POST /channels/{}/messages", channel),
            Some(body),
            true,
            "empty answer",
        )
        .await
    }

    pub async fn edit_message(
        &self,
        channel: &str,
        message: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/channels/{channel}/messages/{message}", self.api);
        self.call_message(
            Method::PATCH,
            url,
            Self::channel_route("PATCH /channels/{}/messages/{}", channel),
            Some(body),
            true,
            "empty answer",
        )
        .await
    }

    pub async fn delete_message(&self, channel: &str, message: &str) -> Result<(), RestError> {
        let url = format!("{}/v10/channels/{channel}/messages/{message}", self.api);
        self.call(
            Method::DELETE,
            url,
            Self::channel_route("DELETE /channels/{}/messages/{}", channel),
            None,
            true,
        )
        .await
        .map(|_| ())
    }

    /// Publish a message of an announcement channel to the following
    /// channels. Never waits for the route's rate limit (the crosspost
    /// bucket resets hourly): a limited route is [`RestError::Busy`].
    pub async fn crosspost(&self, channel: &str, message: &str) -> Result<(), RestError> {
        let url = format!(
            "{}/v10/channels/{channel}/messages/{message}/crosspost",
            self.api
        );
        self.call_with(
            Method::POST,
            url,
            Self::channel_route("POST /channels/{}/messages/{}/crosspost", channel),
            Body::Empty,
            true,
            false,
        )
        .await
        .map(|_| ())
    }

    /// Execute a webhook with `?wait=true`, so the message can be edited
    /// and deleted later.
    pub async fn execute_webhook(
        &self,
        w: &Webhook,
        body: &Value,
        thread: Option<&str>,
    ) -> Result<CreatedMessage, RestError> {
        self.call_message(
            Method::POST,
            Self::webhook_url(w, "", thread, true, true),
            Self::webhook_route("POST /webhooks/{}/{}", w),
            Some(body),
            false,
            "empty answer to ?wait=true",
        )
        .await
    }

    pub async fn edit_webhook_message(
        &self,
        w: &Webhook,
        message: &str,
        body: &Value,
        thread: Option<&str>,
    ) -> Result<CreatedMessage, RestError> {
        self.call_message(
            Method::PATCH,
            Self::webhook_url(w, &format!("/messages/{message}"), thread, false, true),
            Self::webhook_route("PATCH /webhooks/{}/{}/messages/{}", w),
            Some(body),
            false,
            "empty answer",
        )
        .await
    }

    pub async fn delete_webhook_message(
        &self,
        w: &Webhook,
        message: &str,
        thread: Option<&str>,
    ) -> Result<(), RestError> {
        self.call(
            Method::DELETE,
            Self::webhook_url(w, &format!("/messages/{message}"), thread, false, false),
            Self::webhook_route("DELETE /webhooks/{}/{}/messages/{}", w),
            None,
            false,
        )
        .await
        .map(|_| ())
    }
}
