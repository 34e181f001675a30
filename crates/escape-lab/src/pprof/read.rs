//! Reading profiles back: [`from_bytes`] decodes a `profile.proto`
//! (gzipped or not), [`ProfileIndex`] looks up its strings, functions and
//! locations by id. Folding, listings and tests read profiles through here.

use std::collections::HashMap;
use std::io::Read as _;

use ::pprof::protos::{self, Message as _};

use super::encode::Profile;
use super::Error;

/// Decodes a profile, gzip-compressed or not (as `go tool pprof` accepts
/// both).
///
/// # Allocation
///
/// The decompressed bytes and the decoded profile.
///
/// # Errors
///
/// [`Error::Gzip`] for a broken gzip stream, [`Error::Decode`] for bytes
/// that are not a `profile.proto` message.
pub fn from_bytes(bytes: &[u8]) -> Result<Profile, Error> {
    let raw;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|source| Error::Gzip {
                action: "decompress",
                source,
            })?;
        raw = out;
        raw.as_slice()
    } else {
        bytes
    };
    Profile::decode(bytes).map_err(|source| Error::Decode { source })
}

/// Read access to a decoded [`Profile`]: its strings, functions and
/// locations by id, as the folding and listing code needs them. Ids that
/// are out of range give `None` or `""`, never a panic.
#[derive(Debug)]
pub struct ProfileIndex<'a> {
    profile: &'a Profile,
    locations: HashMap<u64, &'a protos::Location>,
    functions: HashMap<u64, &'a protos::Function>,
}

impl<'a> ProfileIndex<'a> {
    /// Indexes `profile`.
    ///
    /// # Allocation
    ///
    /// Two maps, one entry per location and per function.
    #[must_use]
    pub fn new(profile: &'a Profile) -> Self {
        ProfileIndex {
            profile,
            locations: profile.location.iter().map(|l| (l.id, l)).collect(),
            functions: profile.function.iter().map(|f| (f.id, f)).collect(),
        }
    }

    /// The profile. Never allocates.
    #[must_use]
    pub fn profile(&self) -> &'a Profile {
        self.profile
    }

    /// String `i` of the string table, `""` when out of range. Never
    /// allocates.
    #[must_use]
    pub fn str(&self, i: i64) -> &'a str {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.profile.string_table.get(i))
            .map_or("", String::as_str)
    }

    /// The location with this id. Never allocates.
    #[must_use]
    pub fn location(&self, id: u64) -> Option<&'a protos::Location> {
        self.locations.get(&id).copied()
    }

    /// The function with this id. Never allocates.
    #[must_use]
    pub fn function(&self, id: u64) -> Option<&'a protos::Function> {
        self.functions.get(&id).copied()
    }

    /// The lines of `sample`'s stack as `(function, file, line)`, leaf
    /// first and, within a location, innermost inlined function first;
    /// `""` for a function the profile does not have.
    ///
    /// Never allocates.
    pub fn lines(
        &self,
        sample: &'a protos::Sample,
    ) -> impl Iterator<Item = (&'a str, &'a str, i64)> + '_ {
        sample
            .location_id
            .iter()
            .filter_map(|&id| self.location(id))
            .flat_map(|loc| loc.line.iter())
            .map(|l| {
                let (name, file) = self
                    .function(l.function_id)
                    .map_or(("", ""), |f| (self.str(f.name), self.str(f.filename)));
                (name, file, l.line)
            })
    }

    /// The index of the sample type named `name` (`"alloc_space"`), or
    /// given as a number (`"1"`).
    ///
    /// # Errors
    ///
    /// [`Error::NoSampleType`] naming the types the profile has.
    pub fn sample_index(&self, name: &str) -> Result<usize, Error> {
        let types = &self.profile.sample_type;
        if let Ok(i) = name.parse::<usize>() {
            if i < types.len() {
                return Ok(i);
            }
        }
        types
            .iter()
            .position(|t| self.str(t.ty) == name)
            .ok_or_else(|| Error::NoSampleType {
                wanted: name.to_owned(),
                available: types
                    .iter()
                    .map(|t| format!("{}/{}", self.str(t.ty), self.str(t.unit)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
