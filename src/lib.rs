//! whitelabel: turns a brand pack into a branded overlay of Chatwoot (and,
//! in later stages, a thin per-brand image). Data flows one way:
//! brand pack + base files → plan → overlay → report.
//!
//! - [`brand`]: the brand pack and its validation.
//! - [`patchset`]: the version-specific rules, loaded from TOML.
//! - [`render`]: the engine applying rules to a [`tree::BaseTree`].
//! - [`scan`], [`actions`], [`escape`]: the format-aware pieces it uses.
//! - [`cli`]: the command line, one module per subcommand.

pub mod actions;
pub mod brand;
pub mod cli;
pub mod color;
pub mod compress;
pub mod edits;
pub mod error;
pub mod escape;
pub mod icon;
pub mod patchset;
pub mod render;
pub mod report;
pub mod scan;
pub mod svg;
pub mod template;
pub mod tree;
