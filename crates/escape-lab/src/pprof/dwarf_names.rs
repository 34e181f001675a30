//! Function names from DWARF, addr2line 0.27's rules: the linkage name
//! first, else `DW_AT_name`, else the name of the entry that
//! `DW_AT_abstract_origin` / `DW_AT_specification` points to (in this unit,
//! or another one through `DW_FORM_ref_addr`), 16 levels at most.

use super::dwarf_unit::R;
use gimli::{AttributeValue, UnitOffset, UnitRef};

/// Takes `attr` into `name` if it is a name attribute (`Ok(true)` then),
/// in addr2line's precedence. Allocates nothing (the name borrows the
/// mapped file); following a reference into another unit parses that
/// unit's header and abbreviations for the time of the call.
pub(crate) fn take_name<'a>(
    unit: UnitRef<'_, R<'a>>,
    attr: &gimli::Attribute<R<'a>>,
    name: &mut Option<R<'a>>,
) -> gimli::Result<bool> {
    match attr.name() {
        gimli::DW_AT_linkage_name | gimli::DW_AT_MIPS_linkage_name => {
            if let Ok(v) = unit.attr_string(attr.value()) {
                *name = Some(v);
            }
        }
        gimli::DW_AT_name => {
            if name.is_none() {
                *name = unit.attr_string(attr.value()).ok();
            }
        }
        gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => {
            if name.is_none() {
                *name = name_attr(unit, attr.value(), 16)?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn name_attr<'a>(
    unit: UnitRef<'_, R<'a>>,
    value: AttributeValue<R<'a>>,
    limit: usize,
) -> gimli::Result<Option<R<'a>>> {
    if limit == 0 {
        return Ok(None);
    }
    match value {
        AttributeValue::UnitRef(offset) => name_entry(unit, offset, limit),
        AttributeValue::DebugInfoRef(dr) => {
            let dwarf = unit.dwarf;
            let mut headers = dwarf.units();
            while let Some(header) = headers.next()? {
                if let Some(offset) = dr.to_unit_offset(&header) {
                    let other = dwarf.unit(header)?;
                    return name_entry(UnitRef::new(dwarf, &other), offset, limit);
                }
            }
            Err(gimli::Error::NoEntryAtGivenOffset(dr.0 as u64))
        }
        _ => Ok(None),
    }
}

fn name_entry<'a>(
    unit: UnitRef<'_, R<'a>>,
    offset: UnitOffset,
    limit: usize,
) -> gimli::Result<Option<R<'a>>> {
    let mut entries = unit.entries_raw(Some(offset))?;
    let abbrev = entries
        .read_abbreviation()?
        .ok_or(gimli::Error::NoEntryAtGivenOffset(offset.0 as u64))?;
    let mut name = None;
    let mut next = None;
    for spec in abbrev.attributes() {
        let attr = entries.read_attribute(*spec)?;
        match attr.name() {
            gimli::DW_AT_linkage_name | gimli::DW_AT_MIPS_linkage_name => {
                if let Ok(v) = unit.attr_string(attr.value()) {
                    return Ok(Some(v));
                }
            }
            gimli::DW_AT_name => {
                if let Ok(v) = unit.attr_string(attr.value()) {
                    name = Some(v);
                }
            }
            gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => next = Some(attr.value()),
            _ => {}
        }
    }
    match (name, next) {
        (Some(n), _) => Ok(Some(n)),
        (None, Some(v)) => name_attr(unit, v, limit - 1),
        (None, None) => Ok(None),
    }
}
