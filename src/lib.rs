//! whitelabel: turns a brand pack into a thin per-brand image of Chatwoot.
//! Data flows one way: brand pack + base files → plan → overlay → context
//! (or assembled layer) → image → push.
//!
//! The patching side (no Docker):
//! - [`brand`]: the brand pack and its validation.
//! - [`patchset`]: the version-specific rules, loaded from TOML;
//!   [`patches`]: where patch sets come from (built in, or `--patches DIR`).
//! - [`render`]: the engine applying rules to a [`tree::BaseTree`].
//! - [`scan`], [`actions`], [`escape`]: the format-aware pieces it uses.
//! - [`cachebust`]: new names for content-named files the overlay changed,
//!   `?v=` for unhashed ones, and the reference walk that checks them.
//! - [`overrides`]: the brand's per-locale wording (`[strings]`).
//! - [`audit`]: what is left of the upstream brand in a tree, and damage.
//!
//! Between the two (pure, no Docker):
//! - [`identity`]: input hash, labels, default tag; [`image_ref`]: image
//!   references, parsed once; [`digest`]: the digest file and sha256 hex.
//! - [`archive`], [`context`], [`assemble`]: deterministic tars, the
//!   Dockerfile context, and images assembled without a builder.
//! - [`cache`]: base files extracted once per base image.
//! - [`preview`]: a contact sheet of the brand (PNG or HTML).
//!
//! Deployment (pure): [`stack`] writes the brand's Swarm stack file,
//! [`secrets`] makes and keeps the secrets it references.
//! A running install: [`installation`] (the branding rows, pure) and
//! [`config_db`] (PostgreSQL and Redis) for `apply-config`.
//!
//! The Docker side: [`docker`] (bollard). [`pipeline`] runs the build path
//! through both ([`fleet`]: many brands at once); [`cli`] parses arguments and prints, one module per
//! subcommand. [`output`] writes the files a user names (only ever its own,
//! atomically, one run at a time); [`interrupt`] cleans up after Ctrl-C.

pub mod actions;
pub mod archive;
pub mod assemble;
pub mod audit;
pub mod base;
pub mod brand;
pub mod cache;
pub mod cachebust;
pub mod cli;
pub mod color;
pub mod compress;
pub mod config_db;
pub mod context;
pub mod digest;
pub mod docker;
pub mod edits;
pub mod error;
pub mod escape;
pub mod fleet;
pub mod icon;
pub mod identity;
pub mod image_ref;
pub mod installation;
pub mod interrupt;
pub mod output;
pub mod overrides;
pub mod patches;
pub mod patchset;
pub mod pipeline;
pub mod preview;
pub mod progress;
pub mod render;
pub mod report;
pub mod scan;
pub mod secrets;
pub mod stack;
pub mod svg;
pub mod template;
pub mod tree;
