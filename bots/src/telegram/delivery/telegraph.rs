//! Long articles as Telegraph pages: send makes the page (`createPage`)
//! and posts the summary with its link; an edit updates the page
//! (`editPage`) and the summary; a retraction replaces the page's content
//! with a withdrawal notice and deletes the message. The reference is the
//! message's own with the page's URL after a `|`
//! (`chat:42|https://telegra.ph/Path`).
//!
//! When Telegraph fails (unreachable, or it refuses the page), the
//! article's split messages go out instead, recorded as one reference
//! (`chat:42+43+44`) with a note; `FLOOD_WAIT_N` waits N seconds.

use super::TelegramTarget;
use crate::format::telegram::{TelegramMessage, TelegraphPage, with_link};
use crate::target::{DeliveryError, MessageRef, SendCtx, Sent, Target};
use crate::telegram::telegraph::TelegraphError;
use crate::telegram::wire::{parse_ref, with_page};

/// The page's path: the last segment of its URL.
fn page_path(url: &str) -> &str {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

impl TelegramTarget {
    /// Send a long article: its page, then the summary with the link; the
    /// split messages when Telegraph fails.
    pub(super) async fn send_telegraph(
        &self,
        m: &TelegramMessage,
        page: &TelegraphPage,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let Some(client) = &self.telegraph else {
            return self
                .send_fallback(page, ctx, "no Telegraph account here")
                .await;
        };
        let known = self
            .pages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&ctx.delivery_id)
            .cloned();
        let made = match known {
            Some(p) => p,
            None => match client.create_page(page).await {
                Ok(p) => {
                    self.pages
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(ctx.delivery_id, p.clone());
                    p
                }
                Err(TelegraphError::Flood(retry_after)) => {
                    return Err(DeliveryError::RateLimited { retry_after });
                }
                Err(e) => {
                    tracing::warn!(target_name = %self.name, article = %ctx.article, reason = %e, "Telegraph failed; sending the split messages");
                    return self.send_fallback(page, ctx, &e.to_string()).await;
                }
            },
        };
        let summary = with_link(m, &made.url);
        let sent = self.send(&summary.to_part(), ctx).await?;
        self.pages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ctx.delivery_id);
        Ok(Sent {
            message: sent.message.map(|r| with_page(r, &made.url)),
            note: sent.note,
        })
    }

    /// The split messages, in order, as one reference. Should one fail,
    /// those already sent are remembered for this delivery: the retry
    /// sends the rest only.
    async fn send_fallback(
        &self,
        page: &TelegraphPage,
        ctx: &SendCtx,
        why: &str,
    ) -> Result<Sent, DeliveryError> {
        let mut done = self
            .split_sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ctx.delivery_id)
            .unwrap_or_default();
        let mut notes = vec![format!(
            "Telegraph failed ({why}); sent as {} split messages",
            page.fallback.len()
        )];
        for m in page.fallback.iter().skip(done.len()) {
            match self.send(&m.to_part(), ctx).await {
                Ok(sent) => {
                    notes.extend(sent.note);
                    // A message always comes back from Telegram; keep the
                    // count right should one not.
                    done.push(sent.message.unwrap_or(MessageRef {
                        id: String::new(),
                        url: None,
                    }));
                }
                Err(e) => {
                    self.split_sent
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(ctx.delivery_id, done);
                    return Err(e);
                }
            }
        }
        let mut chat = None;
        let mut ids = Vec::new();
        for r in done.iter().filter(|r| !r.id.is_empty()) {
            let (c, more) = parse_ref(r)?;
            chat.get_or_insert(c);
            ids.extend(more.into_iter().map(|i| i.0.to_string()));
        }
        let message = chat.map(|c| MessageRef {
            id: format!("{c}:{}", ids.join("+")),
            url: done.first().and_then(|r| r.url.clone()),
        });
        Ok(Sent {
            message,
            note: Some(notes.join("; ")),
        })
    }

    /// Edit a post that is, or becomes, a Telegraph post. `base` is
    /// `message` without its page, `page_url` the page if there is one.
    pub(super) async fn edit_telegraph(
        &self,
        message: &MessageRef,
        base: &MessageRef,
        page_url: Option<String>,
        m: &TelegramMessage,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let Some(page) = &m.telegraph else {
            // No page any more (telegraph turned off, the article short):
            // the summary message becomes the new post; the page stays.
            let sent = self.edit(base, &m.to_part(), ctx).await?;
            return Ok(Sent {
                message: Some(message.clone()),
                note: sent.note,
            });
        };
        let (Some(url), Some(client)) = (page_url, &self.telegraph) else {
            return self.edit_fallback(message, base, page, ctx).await;
        };
        let mut note = None;
        match client.edit_page(page_path(&url), page).await {
            Ok(()) => {}
            Err(TelegraphError::Flood(retry_after)) => {
                return Err(DeliveryError::RateLimited { retry_after });
            }
            Err(TelegraphError::Down(e)) => {
                return Err(DeliveryError::Transient(format!(
                    "Telegraph unreachable: {e}"
                )));
            }
            Err(e @ TelegraphError::Api(_)) => {
                tracing::warn!(target_name = %self.name, article = %ctx.article, reason = %e, "the Telegraph page was not updated; editing the message only");
                note = Some(format!("{e}; the page was not updated"));
            }
        }
        let summary = with_link(m, &url);
        let sent = self.edit(base, &summary.to_part(), ctx).await?;
        Ok(Sent {
            message: Some(message.clone()),
            note: note.or(sent.note),
        })
    }

    /// Edit split messages (sent when Telegraph failed, or before the
    /// target used Telegraph) with the article's split messages, one for
    /// one; the text of messages beyond those sent is not added.
    async fn edit_fallback(
        &self,
        message: &MessageRef,
        base: &MessageRef,
        page: &TelegraphPage,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let (chat, ids) = parse_ref(base)?;
        let mut notes = Vec::new();
        for (id, m) in ids.iter().zip(&page.fallback) {
            let one = MessageRef {
                id: format!("{chat}:{}", id.0),
                url: None,
            };
            let sent = self.edit(&one, &m.to_part(), ctx).await?;
            notes.extend(sent.note);
        }
        if ids.len() != page.fallback.len() {
            notes.push(format!(
                "{} messages were sent, the article is now {}: only those edited",
                ids.len(),
                page.fallback.len()
            ));
        }
        Ok(Sent {
            message: Some(message.clone()),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        })
    }

    /// A retraction: the page's content becomes the withdrawal notice. A
    /// page Telegraph no longer knows (or refuses to edit) is left as it
    /// is; an unreachable Telegraph is retried.
    pub(super) async fn withdraw_page(
        &self,
        url: &str,
        ctx: &SendCtx,
    ) -> Result<(), DeliveryError> {
        let Some(client) = &self.telegraph else {
            tracing::warn!(target_name = %self.name, article = %ctx.article, "no Telegraph account here: the page is left as it is");
            return Ok(());
        };
        match client.withdraw(page_path(url)).await {
            Ok(()) => Ok(()),
            Err(TelegraphError::Flood(retry_after)) => {
                Err(DeliveryError::RateLimited { retry_after })
            }
            Err(TelegraphError::Down(e)) => Err(DeliveryError::Transient(format!(
                "Telegraph unreachable: {e}"
            ))),
            Err(e @ TelegraphError::Api(_)) => {
                tracing::warn!(target_name = %self.name, article = %ctx.article, reason = %e, "the Telegraph page could not be withdrawn");
                Ok(())
            }
        }
    }
}
