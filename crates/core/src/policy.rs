//! Who may read what: the one rule, used by the hub for the socket and by the
//! server's HTTP API (ARCHITECTURE.md states it).

use sightline_proto::ConversationStatus;

/// Whether the agent `agent_id` may read a conversation's transcript:
/// - a **waiting** conversation, every agent (to decide whether to take it);
/// - an **active** one, only the agent handling it;
/// - a **closed** one, every agent (the team's history).
///
/// Visitors read only their own conversation; that is checked by token, not here.
pub fn agent_may_read(status: ConversationStatus, owner: Option<i64>, agent_id: i64) -> bool {
    match status {
        ConversationStatus::Waiting | ConversationStatus::Closed => true,
        ConversationStatus::Active => owner == Some(agent_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_conversation_is_private_to_its_agent() {
        use ConversationStatus::*;
        assert!(agent_may_read(Waiting, None, 1));
        assert!(agent_may_read(Active, Some(1), 1));
        assert!(!agent_may_read(Active, Some(2), 1));
        assert!(!agent_may_read(Active, None, 1));
        assert!(agent_may_read(Closed, Some(2), 1));
    }
}
