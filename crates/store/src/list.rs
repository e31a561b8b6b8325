//! The console's conversation list: filters, search and paging.

use sightline_proto::api::ConversationPage;
use sightline_proto::{AgentId, ConversationStatus, ConversationSummary};

use crate::codec::{status_str, summary_from_row, SUMMARY_COLUMNS};
use crate::error::{to_db, Result};
use crate::Store;

/// The most conversations one page holds (larger limits are capped).
pub const MAX_PAGE_SIZE: u32 = 100;

/// The page size of [`ConversationQuery::default`].
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The most conversations a page holds when more than a page's worth share one
/// `last_activity_at` (see [`Store::list_conversations`]).
const MAX_TIED_ROWS: i64 = 10_000;

/// What [`Store::list_conversations`] returns. All filters combine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationQuery {
    /// Only conversations with a message containing this text, compared
    /// case-insensitively. `%`, `_` and `\` match themselves. Empty means no filter.
    pub text: Option<String>,
    pub status: Option<ConversationStatus>,
    /// Only conversations assigned to (or, when closed, handled by) this agent.
    pub agent_id: Option<AgentId>,
    /// Only conversations this agent may read (`sightline_core::policy::agent_may_read`:
    /// no other agent's active conversation).
    pub readable_by: Option<AgentId>,
    /// Only conversations of the visitor of this conversation (it included): of
    /// the same browser, or identified as the same user of the host site.
    pub same_visitor_as: Option<sightline_proto::ConversationId>,
    /// Only conversations whose `last_activity_at` is strictly before this: the
    /// `next_before` of the previous page.
    pub before: Option<u64>,
    /// Page size, between 1 and [`MAX_PAGE_SIZE`] (other values are clamped).
    pub limit: u32,
}

impl Default for ConversationQuery {
    fn default() -> Self {
        ConversationQuery {
            text: None,
            status: None,
            agent_id: None,
            readable_by: None,
            same_visitor_as: None,
            before: None,
            limit: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Escapes the `LIKE` wildcards `%` and `_` and the escape character `\`.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `last_activity_at` condition of a query.
enum Activity {
    Before(i64),
    Equal(i64),
}

enum Arg {
    Int(i64),
    Text(String),
}

/// The SQL and arguments of a list query.
fn list_sql(query: &ConversationQuery, activity: Option<Activity>, limit: i64) -> (String, Vec<Arg>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let mut push = |condition: &str, arg: Arg, args: &mut Vec<Arg>| {
        args.push(arg);
        conditions.push(condition.replace("{}", &format!("${}", args.len())));
    };
    if let Some(status) = query.status {
        push("c.status = {}", Arg::Text(status_str(status).to_owned()), &mut args);
    }
    if let Some(agent_id) = query.agent_id {
        push("c.agent_id = {}", Arg::Int(agent_id.0), &mut args);
    }
    if let Some(reader) = query.readable_by {
        push(
            "(c.status <> 'active' OR c.agent_id = {})",
            Arg::Int(reader.0),
            &mut args,
        );
    }
    if let Some(anchor) = &query.same_visitor_as {
        push(
            // The same browser, or the same user of the host site on any device.
            "(c.visitor_id = (SELECT a.visitor_id FROM conversations a WHERE a.id = {}) \
             OR c.identity_id = (SELECT a.identity_id FROM conversations a WHERE a.id = {}))",
            Arg::Text(anchor.as_str().to_owned()),
            &mut args,
        );
    }
    match activity {
        Some(Activity::Before(before)) => push("c.last_activity_at < {}", Arg::Int(before), &mut args),
        Some(Activity::Equal(at)) => push("c.last_activity_at = {}", Arg::Int(at), &mut args),
        None => {}
    }
    if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
        // Stored search text is lowercased the same way.
        let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
        push(
            "EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id \
             AND e.search_text LIKE {} ESCAPE '\\')",
            Arg::Text(pattern),
            &mut args,
        );
    }
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM conversations c");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    args.push(Arg::Int(limit));
    sql.push_str(&format!(
        " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ${}",
        args.len()
    ));
    (sql, args)
}

impl Store {
    /// Conversations matching `query`, newest activity first.
    ///
    /// Paging is by `last_activity_at`. A page never ends in the middle of a run of
    /// conversations with the same `last_activity_at` (group commits give many
    /// conversations the same millisecond), so that `before = next_before` skips
    /// none of them: such a run is left for the next page, or, if it alone is larger
    /// than the page, returned whole (up to 10 000). `next_before` is set when there
    /// may be more.
    pub async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage> {
        let limit = i64::from(query.limit.clamp(1, MAX_PAGE_SIZE));
        let before = query
            .before
            .map(|b| to_db(b, "before"))
            .transpose()?
            .map(Activity::Before);
        let mut rows = self.fetch_list(query, before, limit + 1).await?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let Some(first_left_out) = rows.get(limit).map(|c| c.last_activity_at) else {
            return Ok(ConversationPage {
                conversations: rows,
                next_before: None,
            });
        };
        rows.truncate(limit);
        while rows.last().is_some_and(|c| c.last_activity_at == first_left_out) {
            rows.pop();
        }
        if let Some(last) = rows.last() {
            let next_before = Some(last.last_activity_at);
            return Ok(ConversationPage {
                conversations: rows,
                next_before,
            });
        }
        // The whole page shares one `last_activity_at`: return every conversation
        // with it, and continue before it.
        let at = Activity::Equal(to_db(first_left_out, "last_activity_at")?);
        let rows = self.fetch_list(query, Some(at), MAX_TIED_ROWS).await?;
        Ok(ConversationPage {
            conversations: rows,
            next_before: Some(first_left_out),
        })
    }

    async fn fetch_list(
        &self,
        query: &ConversationQuery,
        activity: Option<Activity>,
        limit: i64,
    ) -> Result<Vec<ConversationSummary>> {
        let (sql, args) = list_sql(query, activity, limit);
        let mut q = sqlx::query(&sql);
        for arg in args {
            q = match arg {
                Arg::Int(i) => q.bind(i),
                Arg::Text(s) => q.bind(s),
            };
        }
        let rows = q.fetch_all(&self.read).await?;
        rows.iter().map(summary_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(escape_like("100%"), "100\\%");
        assert_eq!(escape_like("a_b"), "a\\_b");
        assert_eq!(escape_like("c:\\dir"), "c:\\\\dir");
        assert_eq!(escape_like("plain"), "plain");
    }

    #[test]
    fn list_sql_numbers_its_placeholders_in_order() {
        let query = ConversationQuery {
            text: Some("Hi".into()),
            status: Some(ConversationStatus::Closed),
            agent_id: Some(AgentId(7)),
            readable_by: None,
            same_visitor_as: None,
            before: None,
            limit: 10,
        };
        let (sql, args) = list_sql(&query, Some(Activity::Before(5)), 11);
        assert!(sql.contains("c.status = $1"), "{sql}");
        assert!(sql.contains("c.agent_id = $2"), "{sql}");
        assert!(sql.contains("c.last_activity_at < $3"), "{sql}");
        assert!(sql.contains("LIKE $4 ESCAPE"), "{sql}");
        assert!(sql.ends_with("LIMIT $5"), "{sql}");
        assert_eq!(args.len(), 5);
        assert!(matches!(&args[3], Arg::Text(p) if p == "%hi%"));
    }
}
