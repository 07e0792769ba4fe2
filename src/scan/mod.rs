//! Format-aware scanners: they find the byte ranges a replacement may touch
//! (string literal bodies in JS, source texts in maps, YAML scalar values),
//! so that code, keys and comparisons are never rewritten.

pub mod js;
pub mod name;
pub mod sourcemap;
pub mod yaml;
