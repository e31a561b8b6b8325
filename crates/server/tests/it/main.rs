//! Integration tests: the real server on an ephemeral port, over real sockets.
//! One test binary (as ripgrep does); modules by behaviour.

mod support;

mod api;
mod asset_proxy;
mod attacks;
mod availability;
mod chat;
mod cli;
mod company;
mod context;
mod demo;
mod edge;
mod hostile_input;
mod images;
mod invite;
mod policy;
mod postgres;
mod rating;
mod relay;
mod restart;
mod saved_replies;
mod share;
mod site;
mod tls;
mod transcripts;
mod transfer;
mod turn;
