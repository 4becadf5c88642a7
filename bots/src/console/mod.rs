//! The `console` target: prints each post to standard output as a Telegram
//! channel member and a Discord member would see it.

pub mod platform;

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::format::{FeedRenderOptions, TargetFormat};
use crate::model::Post;
use crate::target::{DeliveryError, MessageRef, Part, RenderError, SendCtx, Sent, Target};

/// Where the console target writes (stdout, or a buffer in tests).
pub type Sink = Box<dyn Write + Send>;

pub struct ConsoleTarget {
    name: String,
    format: TargetFormat,
    sink: Mutex<Sink>,
    counter: AtomicU64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ConsolePayload {
    text: String,
}

impl ConsoleTarget {
    pub fn new(name: impl Into<String>, format: TargetFormat, sink: Sink) -> ConsoleTarget {
        ConsoleTarget {
            name: name.into(),
            format,
            sink: Mutex::new(sink),
            counter: AtomicU64::new(0),
        }
    }

    pub fn stdout(name: impl Into<String>, format: TargetFormat) -> ConsoleTarget {
        ConsoleTarget::new(name, format, Box::new(std::io::stdout()))
    }

    fn write(&self, text: &str) -> Result<(), DeliveryError> {
        let mut sink = self
            .sink
            .lock()
            .map_err(|_| DeliveryError::Transient("console sink poisoned".into()))?;
        sink.write_all(text.as_bytes())
            .and_then(|()| sink.flush())
            .map_err(|e| DeliveryError::Transient(format!("cannot write to the console: {e}")))
    }

    fn payload(part: &Part) -> Result<ConsolePayload, DeliveryError> {
        serde_json::from_value(part.payload.clone())
            .map_err(|e| DeliveryError::Rejected(format!("not a console payload: {e}")))
    }
}

#[async_trait::async_trait]
impl Target for ConsoleTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn platform(&self) -> &'static str {
        "console"
    }

    /// No platform limits: each console target stands alone.
    fn sender(&self) -> String {
        format!("console:{}", self.name)
    }

    fn render(&self, post: &Post, feed: &FeedRenderOptions) -> Result<Vec<Part>, RenderError> {
        let text = crate::format::terminal::preview(post, feed, &self.format)?;
        Ok(vec![Part {
            payload: serde_json::to_value(ConsolePayload { text })
                .map_err(|e| RenderError(e.to_string()))?,
            summary: format!("console post: {}", post.label()),
        }])
    }

    fn preview_text(&self, part: &Part) -> String {
        // The console's text is already what a member sees, both views.
        match part.payload.get("text").and_then(|t| t.as_str()) {
            Some(t) => t.to_string(),
            None => crate::format::terminal::payload(&part.payload),
        }
    }

    fn preview_request(&self, part: &Part) -> serde_json::Value {
        serde_json::json!({ "stdout": part.payload.get("text").cloned().unwrap_or_default() })
    }

    async fn send(&self, part: &Part, _ctx: &SendCtx) -> Result<Sent, DeliveryError> {
        let p = Self::payload(part)?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("{}:{n}", self.name);
        self.write(&format!(
            "═══ {} · post {id} ═══\n{}\n",
            self.name,
            p.text.trim_end()
        ))?;
        Ok(Sent {
            message: Some(MessageRef { id, url: None }),
            note: None,
        })
    }

    async fn edit(
        &self,
        message: &MessageRef,
        part: &Part,
        _ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let p = Self::payload(part)?;
        self.write(&format!(
            "═══ {} · post {} (edited) ═══\n{}\n",
            self.name,
            message.id,
            p.text.trim_end()
        ))?;
        Ok(Sent {
            message: Some(message.clone()),
            note: None,
        })
    }

    async fn delete(&self, message: &MessageRef, _ctx: &SendCtx) -> Result<(), DeliveryError> {
        self.write(&format!(
            "═══ {} · post {} deleted ═══\n",
            self.name, message.id
        ))
    }
}
