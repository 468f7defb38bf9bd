//! Rosters (党员名册) as files: reading an uploaded sheet strictly ([`sheet`]) and writing the
//! template ([`template`]). The rules about people are in `domain::roster`; storing and
//! applying an upload in `storage::roster` and `service::roster`.

pub mod sheet;
pub mod template;
