//! Screenshot requests: what an agent asks of a visitor whose device cannot share
//! its screen (a phone or tablet). The visitor answers with a picture, through
//! the ordinary picture upload, or declines. The rules the server enforces:
//! - only the owning agent asks, in an active conversation, one request at a time
//!   (and each ask spends the socket's message allowance like any other);
//! - only the visitor declines, only the owner withdraws;
//! - the visitor's next picture answers an open request (`sent`);
//! - closing the conversation ends it.
//!
//! Every change is an [`EventKind::Screenshot`] in the history; the summary's
//! `screenshot` is its live view (like a share, it does not survive a restart).

use sightline_proto::{
    AgentRef, ConversationId, ErrorCode, EventKind, ScreenshotId, ScreenshotState, ScreenshotSummary,
    MAX_INVITATION_CHARS,
};

use super::{refuse, Handled, Hub};

fn default_request() -> String {
    "Could you send me a screenshot? Take one on your device, then choose it here.".into()
}

impl Hub {
    /// The owner (checked by the caller) asks for a screenshot.
    pub(super) fn ask_screenshot(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        me: AgentRef,
        message: Option<String>,
    ) -> Handled {
        let open = self
            .conversations
            .get(conversation)
            .and_then(|c| c.summary.screenshot.as_ref())
            .is_some_and(|s| !s.state.is_final());
        if open {
            return Err(refuse(
                ErrorCode::InvalidState,
                "a screenshot request is already waiting for the visitor's answer",
            ));
        }
        let message = super::grants::request_text(message, MAX_INVITATION_CHARS, default_request)?;
        let request = ScreenshotId::from(self.random_id(16));
        self.set_screenshot_state(
            now,
            conversation,
            request,
            ScreenshotState::Asked,
            Some(me),
            Some(message),
        );
        Ok(())
    }

    /// The visitor declines the open request of their conversation `current`.
    /// Repeating an answer to a request that is over changes nothing.
    pub(super) fn decline_screenshot(
        &mut self,
        now: u64,
        current: Option<&ConversationId>,
        request: &ScreenshotId,
    ) -> Handled {
        let found = current.and_then(|id| {
            self.conversations
                .get(id)
                .and_then(|c| c.summary.screenshot.as_ref())
                .filter(|s| s.id == *request)
                .map(|s| (id.clone(), s.state))
        });
        match found {
            None => Err(refuse(ErrorCode::Forbidden, "that screenshot request is not yours")),
            Some((_, state)) if state.is_final() => Ok(()),
            Some((id, _)) => {
                self.set_screenshot_state(now, &id, request.clone(), ScreenshotState::Declined, None, None);
                Ok(())
            }
        }
    }

    /// The owning agent takes an open request back.
    pub(super) fn withdraw_screenshot(&mut self, now: u64, request: &ScreenshotId, me: AgentRef) -> Handled {
        let id = self
            .screenshot_index
            .get(request)
            .cloned()
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such open screenshot request"))?;
        let c = self.conversation_for_agent(&id)?;
        Self::check_owner(c, &me)?;
        self.set_screenshot_state(now, &id, request.clone(), ScreenshotState::Withdrawn, Some(me), None);
        Ok(())
    }

    /// Ends the conversation's open request, if any, as `state` (`Sent` when
    /// the visitor's picture arrived, `Ended` when the conversation closes).
    pub(super) fn finish_screenshot(&mut self, now: u64, conversation: &ConversationId, state: ScreenshotState) {
        let open = self
            .conversations
            .get(conversation)
            .and_then(|c| c.summary.screenshot.as_ref())
            .filter(|s| !s.state.is_final())
            .map(|s| s.id.clone());
        if let Some(request) = open {
            self.set_screenshot_state(now, conversation, request, state, None, None);
        }
    }

    /// Records a request's new state: an event for both sides and the summary.
    fn set_screenshot_state(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        request: ScreenshotId,
        state: ScreenshotState,
        agent: Option<AgentRef>,
        message: Option<String>,
    ) {
        let Some(c) = self.conversations.get_mut(conversation) else {
            return;
        };
        c.summary.screenshot = Some(ScreenshotSummary {
            id: request.clone(),
            state,
        });
        if state.is_final() {
            self.screenshot_index.remove(&request);
        } else {
            self.screenshot_index.insert(request.clone(), conversation.clone());
        }
        self.append(
            now,
            conversation,
            EventKind::Screenshot {
                request,
                state,
                agent,
                message,
            },
        );
        self.summary_to_agents(conversation);
    }
}
