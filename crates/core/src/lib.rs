//! Sightline's sans-IO core: the conversation state machines.
//!
//! The [`Hub`] holds every live conversation, visitor and connection. It is driven
//! the way str0m drives its `Rtc`:
//!
//! ```text
//! loop {
//!     hub.handle(now, input);               // a socket opened, a message arrived, ...
//!     while let Some(out) = hub.poll_output() {
//!         match out {
//!             Output::Persist(op) => ...,   // store (group-committed by the shell)
//!             Output::Send { .. } => ...,   // deliver, after the batch is stored
//!             Output::Replay { .. } => ..., // read stored events and deliver them
//!             ...
//!         }
//!     }
//! }
//! ```
//!
//! Rules the core keeps (the Architecture Invariants in ARCHITECTURE.md):
//! - No I/O, no clock, no global randomness: time is an argument, randomness comes
//!   from a seed the shell provides. The same inputs give the same outputs.
//! - Client input never panics: every malformed, oversized, unauthorised or
//!   out-of-order message becomes an [`Output::Send`] of a protocol error to that
//!   connection alone.
//! - Within one `handle` call, every [`Output::Persist`] comes before the sends
//!   that depend on it; the shell must store a batch before it delivers it.
//! - Sequence numbers are assigned here, per conversation, gap-free.

pub mod consent;
mod hub;
pub mod identity;
pub mod limits;
pub mod policy;
mod rate;
pub mod records;
pub mod stream_check;
mod turn;
mod validate;

pub use hub::{
    AgentIdentity, ClientInfo, ConnId, Hub, HubStats, ImagePosted, Input, Output, Party, Peer, Refused, ShareSettings,
    StreamGrant, StreamToken, TurnSettings, Uploader,
};
pub use limits::{address_group, Allowance, LimitKind, Limits};
pub use rate::TokenBucket;
pub use turn::turn_credentials;
pub use validate::{token_hash, validate_client_id, Invalid};
