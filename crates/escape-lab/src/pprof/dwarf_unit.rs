//! One compilation unit's answers for a batch of addresses, streamed: the
//! line program is read once keeping one row per queried address, and the
//! DIE tree is walked keeping only the functions and inlined calls that
//! contain a queried address. Nothing of the unit outlives the call.
//!
//! The rules are addr2line 0.27's (what `backtrace` uses), so the frames are
//! the ones `backtrace::resolve` gives: the row of an address is the last
//! row at or before it in its sequence (rows at one address: the last one),
//! a file is `comp_dir` joined with the entry's directory and name, a name
//! is the linkage name, else `DW_AT_name`, else the abstract origin's or
//! specification's (16 levels at most).

use super::dwarf_names::take_name;
use gimli::{AttributeValue, EndianSlice, RunTimeEndian, UnitOffset, UnitRef};

pub(crate) type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// Where an address is: file, line, column as addr2line's `Location`
/// (`line` 0 is none; `column` only with a line).
#[derive(Clone, Debug, Default)]
pub(crate) struct Loc {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// One frame before names are demangled: the raw name (`None` when DWARF
/// has none: the caller asks the symbol table) and the location.
pub(crate) struct RawFrame<'a> {
    pub name: Option<&'a [u8]>,
    pub loc: Option<Loc>,
}

#[derive(Clone, Copy)]
struct Row {
    file: u64,
    line: u32,
    column: u32,
}

#[derive(Clone, Copy)]
struct Inlined<'a> {
    offset: UnitOffset,
    name: Option<R<'a>>,
    call_file: Option<u64>,
    call_line: u32,
    call_column: u32,
}

#[derive(Default)]
struct Found<'a> {
    function: Option<UnitOffset>,
    name: Option<R<'a>>,
    chain: Vec<Inlined<'a>>,
    row: Option<Row>,
    failed: bool,
}

/// The frames, innermost first, of each of `queries` (sorted, distinct,
/// file addresses) in `unit`: empty for an address the unit knows nothing
/// of (neither a function nor a line), `None` when the unit's DWARF could
/// not be read for it (malformed).
///
/// # Allocation
///
/// Per query a few words, its inline chain and its frames' file names; the
/// line program's header (file table) while the unit is read.
pub(crate) fn resolve<'a>(
    unit: UnitRef<'_, R<'a>>,
    queries: &[u64],
) -> Vec<Option<Vec<RawFrame<'a>>>> {
    let mut found: Vec<Found<'a>> = queries.iter().map(|_| Found::default()).collect();
    let lines = unit.line_program.clone();
    let header = match lines.map(|program| stream_rows(program, queries, &mut found)) {
        Some(Ok(header)) => Some(header),
        Some(Err(_)) => {
            // addr2line fails the whole lookup when the line program is bad.
            return queries.iter().map(|_| None).collect();
        }
        None => None,
    };
    if find_functions(unit, queries, &mut found).is_err() {
        found.iter_mut().for_each(|f| f.failed = true);
    }
    walk_functions(unit, queries, &mut found);
    let file = |index: u64| header.as_ref().and_then(|h| file_name(unit, h, index));
    found.into_iter().map(|f| frames_of(f, &file)).collect()
}

type Header<'a> = gimli::LineProgramHeader<R<'a>>;

fn frames_of<'a>(f: Found<'a>, file: &dyn Fn(u64) -> Option<String>) -> Option<Vec<RawFrame<'a>>> {
    if f.failed {
        return None;
    }
    let mut loc = f.row.map(|r| Loc {
        file: file(r.file),
        line: (r.line != 0).then_some(r.line),
        column: (r.line != 0).then_some(r.column),
    });
    if f.function.is_none() {
        return Some(
            loc.map(|l| {
                vec![RawFrame {
                    name: None,
                    loc: Some(l),
                }]
            })
            .unwrap_or_default(),
        );
    }
    let mut frames = Vec::with_capacity(f.chain.len() + 1);
    for inl in f.chain.iter().rev() {
        frames.push(RawFrame {
            name: inl.name.map(|n| n.slice()),
            loc: loc.take(),
        });
        loc = Some(Loc {
            file: inl.call_file.and_then(file),
            line: (inl.call_line != 0).then_some(inl.call_line),
            column: (inl.call_column != 0).then_some(inl.call_column),
        });
    }
    frames.push(RawFrame {
        name: f.name.map(|n| n.slice()),
        loc,
    });
    Some(frames)
}

// The line program once: for each query, the row covering it.
fn stream_rows<'a>(
    program: gimli::IncompleteLineProgram<R<'a>>,
    queries: &[u64],
    found: &mut [Found<'a>],
) -> gimli::Result<Header<'a>> {
    let mut rows = program.rows();
    let mut prev: Option<(u64, Row)> = None;
    let assign = |from: u64, to: u64, row: Row, found: &mut [Found<'a>]| {
        for i in span(queries, from, to) {
            found[i].row.get_or_insert(row);
        }
    };
    while let Some((_, row)) = rows.next_row()? {
        let address = row.address();
        if let Some((at, r)) = prev {
            if at < address {
                assign(at, address, r, found);
            }
        }
        if row.end_sequence() {
            prev = None;
            continue;
        }
        let line = row.line().map_or(0, |l| l.get() as u32);
        let column = match row.column() {
            gimli::ColumnType::LeftEdge => 0,
            gimli::ColumnType::Column(c) => c.get() as u32,
        };
        let file = row.file_index();
        prev = Some((address, Row { file, line, column }));
    }
    Ok(rows.header().clone())
}

/// The indices of the sorted `queries` in `[from, to)`.
pub(crate) fn span(queries: &[u64], from: u64, to: u64) -> std::ops::Range<usize> {
    let a = queries.partition_point(|&q| q < from);
    let b = queries.partition_point(|&q| q < to);
    a..b.max(a)
}

// addr2line's `render_file`: comp_dir, then the directory unless it is 0,
// then the name, an absolute part replacing what came before.
fn file_name<'a>(unit: UnitRef<'_, R<'a>>, header: &Header<'a>, index: u64) -> Option<String> {
    let Some(file) = header.file(index) else {
        // DWARF 4 and older have no entry 0; addr2line names it "".
        return (index == 0).then(String::new);
    };
    let string =
        |v| -> Option<String> { Some(unit.attr_string(v).ok()?.to_string_lossy().into_owned()) };
    let mut path = match unit.comp_dir {
        Some(dir) => dir.to_string_lossy().into_owned(),
        None => String::new(),
    };
    if file.directory_index() != 0 {
        if let Some(dir) = file.directory(header) {
            path_push(&mut path, &string(dir)?);
        }
    }
    path_push(&mut path, &string(file.path_name())?);
    Some(path)
}

fn path_push(path: &mut String, p: &str) {
    let rooted = |s: &str| s.starts_with('/') || s.get(1..3) == Some(":/");
    let back = |s: &str| s.starts_with('\\') || s.get(1..3) == Some(":\\");
    if rooted(p) || back(p) {
        *path = p.to_owned();
    } else {
        let sep = if back(path) { '\\' } else { '/' };
        if !path.is_empty() && !path.ends_with(sep) {
            path.push(sep);
        }
        path.push_str(p);
    }
}

/// The code ranges of a DIE's attributes (addr2line's `RangeAttributes`).
#[derive(Default)]
pub(crate) struct Ranges {
    low: Option<u64>,
    high: Option<u64>,
    size: Option<u64>,
    list: Option<gimli::RangeListsOffset>,
}

impl Ranges {
    /// Takes the attribute if it is a range one; `Ok(true)` then.
    pub(crate) fn take<'a>(
        &mut self,
        unit: UnitRef<'_, R<'a>>,
        attr: &gimli::Attribute<R<'a>>,
    ) -> gimli::Result<bool> {
        match (attr.name(), attr.value()) {
            (gimli::DW_AT_low_pc, AttributeValue::Addr(v)) => self.low = Some(v),
            (gimli::DW_AT_low_pc, AttributeValue::DebugAddrIndex(i)) => {
                self.low = Some(unit.address(i)?)
            }
            (gimli::DW_AT_high_pc, AttributeValue::Addr(v)) => self.high = Some(v),
            (gimli::DW_AT_high_pc, AttributeValue::DebugAddrIndex(i)) => {
                self.high = Some(unit.address(i)?)
            }
            (gimli::DW_AT_high_pc, AttributeValue::Udata(v)) => self.size = Some(v),
            (gimli::DW_AT_ranges, v) => self.list = unit.attr_ranges_offset(v)?,
            (gimli::DW_AT_low_pc | gimli::DW_AT_high_pc, _) => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Calls `f` with each non-empty range `[begin, end)`.
    pub(crate) fn each(
        &self,
        unit: UnitRef<'_, R<'_>>,
        mut f: impl FnMut(u64, u64),
    ) -> gimli::Result<()> {
        let mut add = |b: u64, e: u64| {
            if b < e {
                f(b, e);
            }
        };
        if let Some(offset) = self.list {
            let mut list = unit.ranges(offset)?;
            while let Some(r) = list.next()? {
                add(r.begin, r.end);
            }
        } else if let (Some(b), Some(e)) = (self.low, self.high) {
            add(b, e);
        } else if let (Some(b), Some(s)) = (self.low, self.size) {
            add(b, b.wrapping_add(s));
        }
        Ok(())
    }
}

/// The range attributes of the unit's root entry.
pub(crate) fn unit_ranges(unit: UnitRef<'_, R<'_>>) -> gimli::Result<Ranges> {
    let mut entries = unit.entries_raw(None)?;
    let mut ranges = Ranges::default();
    if let Some(abbrev) = entries.read_abbreviation()? {
        for spec in abbrev.attributes() {
            let attr = entries.read_attribute(*spec)?;
            ranges.take(unit, &attr)?;
        }
    }
    Ok(ranges)
}

// Every subprogram of the unit (nested ones too): which queries it covers.
fn find_functions(
    unit: UnitRef<'_, R<'_>>,
    queries: &[u64],
    found: &mut [Found<'_>],
) -> gimli::Result<()> {
    let mut entries = unit.entries_raw(None)?;
    while !entries.is_empty() {
        let offset = entries.next_offset();
        let Some(abbrev) = entries.read_abbreviation()? else {
            continue;
        };
        if abbrev.tag() != gimli::DW_TAG_subprogram {
            entries.skip_attributes(abbrev.attributes())?;
            continue;
        }
        let mut ranges = Ranges::default();
        for spec in abbrev.attributes() {
            let attr = entries.read_attribute(*spec)?;
            ranges.take(unit, &attr)?;
        }
        ranges.each(unit, |b, e| {
            for i in span(queries, b, e) {
                found[i].function.get_or_insert(offset);
            }
        })?;
    }
    Ok(())
}

// Each function found: its name and the inlined calls covering its queries.
fn walk_functions<'a>(unit: UnitRef<'_, R<'a>>, queries: &[u64], found: &mut [Found<'a>]) {
    // The queries grouped by function, each function walked once.
    let mut order: Vec<(UnitOffset, usize)> = found
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Some((f.function?, i)))
        .collect();
    order.sort_unstable();
    let mut start = 0;
    while start < order.len() {
        let function = order[start].0;
        let end = start + order[start..].partition_point(|o| o.0 == function);
        let mine: Vec<usize> = order[start..end].iter().map(|o| o.1).collect();
        if walk_function(unit, function, queries, &mine, found).is_err() {
            mine.iter().for_each(|&i| found[i].failed = true);
        }
        start = end;
    }
}

fn walk_function<'a>(
    unit: UnitRef<'_, R<'a>>,
    function: UnitOffset,
    queries: &[u64],
    mine: &[usize],
    found: &mut [Found<'a>],
) -> gimli::Result<()> {
    let mut entries = unit.entries_raw(Some(function))?;
    let base = entries.next_depth();
    let abbrev = entries
        .read_abbreviation()?
        .ok_or(gimli::Error::NoEntryAtGivenOffset(function.0 as u64))?;
    let mut name = None;
    for spec in abbrev.attributes() {
        let attr = entries.read_attribute(*spec)?;
        take_name(unit, &attr, &mut name)?;
    }
    mine.iter().for_each(|&i| found[i].name = name);
    // The inlined calls open around the entry being read: (depth, offset).
    let mut open: Vec<(isize, UnitOffset)> = Vec::new();
    loop {
        let offset = entries.next_offset();
        let depth = entries.next_depth();
        if depth <= base || entries.is_empty() {
            return Ok(());
        }
        while open.last().is_some_and(|&(d, _)| d >= depth) {
            open.pop();
        }
        let Some(abbrev) = entries.read_abbreviation()? else {
            continue;
        };
        match abbrev.tag() {
            gimli::DW_TAG_subprogram => {
                entries.skip_attributes(abbrev.attributes())?;
                while entries.next_depth() > depth {
                    if let Some(a) = entries.read_abbreviation()? {
                        entries.skip_attributes(a.attributes())?;
                    }
                }
            }
            gimli::DW_TAG_inlined_subroutine => {
                let (inl, ranges) = read_inlined(unit, &mut entries, abbrev, offset)?;
                let level = open.len();
                let parent = open.last().map(|&(_, o)| o);
                ranges.each(unit, |b, e| {
                    for &i in mine {
                        let f = &mut found[i];
                        let q = queries[i];
                        let fits =
                            f.chain.len() == level && f.chain.last().map(|c| c.offset) == parent;
                        if fits && b <= q && q < e {
                            f.chain.push(inl);
                        }
                    }
                })?;
                open.push((depth, offset));
            }
            _ => entries.skip_attributes(abbrev.attributes())?,
        }
    }
}

// An inlined call's attributes, addr2line's way (`DW_AT_call_file` 0 is a
// file only from DWARF 5 on).
fn read_inlined<'a>(
    unit: UnitRef<'_, R<'a>>,
    entries: &mut gimli::EntriesRaw<'_, R<'a>>,
    abbrev: &gimli::Abbreviation,
    offset: UnitOffset,
) -> gimli::Result<(Inlined<'a>, Ranges)> {
    let mut ranges = Ranges::default();
    let mut inl = Inlined {
        offset,
        name: None,
        call_file: None,
        call_line: 0,
        call_column: 0,
    };
    for spec in abbrev.attributes() {
        let attr = entries.read_attribute(*spec)?;
        if ranges.take(unit, &attr)? || take_name(unit, &attr, &mut inl.name)? {
            continue;
        }
        match (attr.name(), attr.value()) {
            (gimli::DW_AT_call_file, AttributeValue::FileIndex(fi))
                if fi > 0 || unit.header.version() >= 5 =>
            {
                inl.call_file = Some(fi);
            }
            (gimli::DW_AT_call_line, _) => inl.call_line = attr.udata_value().unwrap_or(0) as u32,
            (gimli::DW_AT_call_column, _) => {
                inl.call_column = attr.udata_value().unwrap_or(0) as u32;
            }
            _ => {}
        }
    }
    Ok((inl, ranges))
}
