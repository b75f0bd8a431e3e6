//! `RangeIndex`: the address index of one ban kind in one address family.
//!
//! Nested networks are flattened, when the index is built, into a sorted
//! partition of the whole address space: bound `i` holds the first address
//! of a range that runs up to the next bound's, and the value of the entry
//! that answers for every address of that range (the most specific network
//! covering it), or [`NONE`]. A lookup is then "the last key not above the
//! address", with no walk over candidates.
//!
//! A radix directory in front cuts that search short: the root table is
//! indexed by the top bits of the address (up to 16) and each slot names the
//! range of keys that start inside it. A slot holding more than
//! [`LEAF_MAX`] keys is split by a child table on the next [`CHILD_STRIDE`]
//! bits, so the binary search at the end never looks at more than
//! [`LEAF_MAX`] keys. A lookup therefore reads a bounded number of memory
//! locations, whatever the list size: one slot per directory level (at most
//! 5 for IPv4, 29 for IPv6, about 2 in practice), at most
//! `log2(LEAF_MAX) + 1` keys and one value. It allocates nothing.

/// No entry covers the range.
pub(crate) const NONE: u32 = u32::MAX;

/// The most keys a directory slot may hold before it is split.
const LEAF_MAX: usize = 16;

/// Bits a child table adds to its parent slot.
const CHILD_STRIDE: u32 = 4;

/// The widest root table: 2^16 slots.
const ROOT_STRIDE_MAX: u32 = 16;

/// A slot whose `hi` is this holds a child table's index in `lo`.
const CHILD: u32 = u32::MAX;

/// An address as an unsigned integer: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Key: Copy + Ord + Default + std::fmt::Debug {
    /// The width in bits.
    const BITS: u32;

    /// The key as stored beside its value: `u128` as four `u32`s, so a
    /// key and its value take 20 bytes instead of 32.
    type Packed: Copy + std::fmt::Debug;

    fn pack(self) -> Self::Packed;

    fn unpack(packed: Self::Packed) -> Self;

    /// The last address of the network starting at `self` with `len` bits
    /// of prefix.
    fn last_of(self, len: u8) -> Self;

    /// The next address, `None` after the last one.
    fn succ(self) -> Option<Self>;

    /// `stride` bits of the address starting at bit `shift` (0 is the lowest).
    fn bits(self, shift: u32, stride: u32) -> usize;
}

impl Key for u32 {
    const BITS: u32 = 32;
    type Packed = u32;

    fn pack(self) -> u32 {
        self
    }

    fn unpack(packed: u32) -> Self {
        packed
    }

    fn last_of(self, len: u8) -> Self {
        self | u32::MAX.checked_shr(u32::from(len)).unwrap_or(0)
    }

    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }

    fn bits(self, shift: u32, stride: u32) -> usize {
        let mask = (1_u32 << stride) - 1;
        // At most 16 bits, so the value fits a usize.
        (self.checked_shr(shift).unwrap_or(0) & mask) as usize
    }
}

impl Key for u128 {
    const BITS: u32 = 128;
    type Packed = [u32; 4];

    fn pack(self) -> [u32; 4] {
        let bytes = self.to_be_bytes();
        std::array::from_fn(|i| {
            let mut word = [0; 4];
            if let Some(part) = bytes.get(i * 4..i * 4 + 4) {
                word.copy_from_slice(part);
            }
            u32::from_be_bytes(word)
        })
    }

    fn unpack(packed: [u32; 4]) -> Self {
        packed
            .iter()
            .fold(0_u128, |key, &word| key << 32 | u128::from(word))
    }

    fn last_of(self, len: u8) -> Self {
        self | u128::MAX.checked_shr(u32::from(len)).unwrap_or(0)
    }

    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }

    fn bits(self, shift: u32, stride: u32) -> usize {
        let mask = (1_u128 << stride) - 1;
        // At most 16 bits, so the value fits a usize.
        (self.checked_shr(shift).unwrap_or(0) & mask) as usize
    }
}

/// One directory table: `1 << stride` slots from `first_slot`, indexed by
/// the address bits `shift .. shift + stride`.
#[derive(Debug, Clone, Copy)]
struct Table {
    first_slot: u32,
    shift: u8,
    stride: u8,
}

/// The keys `lo..hi` starting in a slot, or a child table (`hi == CHILD`).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    lo: u32,
    hi: u32,
}

/// A network to index: its first address, its prefix length and the entry
/// that answers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Network<K> {
    pub(crate) start: K,
    pub(crate) len: u8,
    pub(crate) entry: u32,
}

/// The first address of a range and the value answering for it, side by
/// side so the search and its answer share a cache line.
#[derive(Debug, Clone, Copy)]
struct Bound<P> {
    key: P,
    value: u32,
}

/// The flattened, immutable index of one kind in one family.
#[derive(Debug, Clone)]
pub(crate) struct RangeIndex<K: Key> {
    bounds: Box<[Bound<K::Packed>]>,
    tables: Box<[Table]>,
    slots: Box<[Slot]>,
}

impl<K: Key> Default for RangeIndex<K> {
    fn default() -> Self {
        Self::build(Vec::new(), |entry| entry, &mut |_, _| {})
    }
}

impl<K: Key> RangeIndex<K> {
    /// Indexes `networks` (host bits cleared), storing `value(entry)` for
    /// the ranges an entry answers for. Several entries on one network are
    /// answered by the lowest entry number; `fallback(entry,
    /// next)` is told, for every entry, which entry answers in its place
    /// when it no longer applies: the next one on the same network, else
    /// the first one of the closest network containing it, else [`NONE`].
    pub(crate) fn build(
        mut networks: Vec<Network<K>>,
        value: impl Fn(u32) -> u32,
        fallback: &mut impl FnMut(u32, u32),
    ) -> Self {
        networks.sort_unstable();
        let mut bounds: Vec<(K, u32)> = Vec::with_capacity(networks.len() * 2 + 1);
        bounds.push((K::default(), NONE));
        // The networks containing the current one, outermost first: their
        // last address and the entry answering for them.
        let mut open: Vec<(K, u32)> = Vec::new();
        let mut groups = networks.chunk_by(|a, b| a.start == b.start && a.len == b.len);
        let mut next_group = groups.next();
        while let Some(group) = next_group {
            next_group = groups.next();
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            close_before(&mut open, &mut bounds, Some(first.start));
            for pair in group.windows(2) {
                if let [a, b] = pair {
                    fallback(a.entry, b.entry);
                }
            }
            fallback(last.entry, open.last().map_or(NONE, |&(_, entry)| entry));
            push_bound(&mut bounds, first.start, first.entry);
            open.push((first.start.last_of(first.len), first.entry));
        }
        close_before(&mut open, &mut bounds, None);
        drop(networks);
        let keys: Vec<K> = bounds.iter().map(|&(key, _)| key).collect();
        let (tables, slots) = directory(&keys);
        drop(keys);
        Self {
            bounds: bounds
                .into_iter()
                .map(|(key, entry)| Bound {
                    key: key.pack(),
                    value: if entry == NONE { NONE } else { value(entry) },
                })
                .collect(),
            tables: tables.into_boxed_slice(),
            slots: slots.into_boxed_slice(),
        }
    }

    /// The entry answering for `address`, or [`NONE`].
    pub(crate) fn lookup(&self, address: K) -> u32 {
        let Some(mut table) = self.tables.first().copied() else {
            return NONE;
        };
        loop {
            let at = table.first_slot as usize
                + address.bits(u32::from(table.shift), u32::from(table.stride));
            let Some(slot) = self.slots.get(at).copied() else {
                return NONE;
            };
            if slot.hi == CHILD {
                match self.tables.get(slot.lo as usize) {
                    Some(&child) => table = child,
                    None => return NONE,
                }
                continue;
            }
            let (lo, hi) = (slot.lo as usize, slot.hi as usize);
            let below = self.bounds.get(lo..hi).map_or(0, |bounds| {
                bounds.partition_point(|bound| K::unpack(bound.key) <= address)
            });
            // The range is the last key not above the address: in the slot,
            // or the last key before it (keys[0] is address 0, so there is one).
            return (lo + below)
                .checked_sub(1)
                .and_then(|i| self.bounds.get(i))
                .map_or(NONE, |bound| bound.value);
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        size_of_val(&*self.bounds) + size_of_val(&*self.tables) + size_of_val(&*self.slots)
    }
}

/// Ends every open network that stops before `at` (all of them for `None`),
/// so the addresses after each fall back to the network around it.
fn close_before<K: Key>(open: &mut Vec<(K, u32)>, bounds: &mut Vec<(K, u32)>, at: Option<K>) {
    while let Some(&(last, _)) = open.last() {
        if at.is_some_and(|at| last >= at) {
            break;
        }
        open.pop();
        if let Some(after) = last.succ() {
            let outer = open.last().map_or(NONE, |&(_, entry)| entry);
            push_bound(bounds, after, outer);
        }
    }
}

/// Appends "from `key` on, `entry` answers", merging with the previous range
/// when it is the same entry and replacing a range that would be empty.
fn push_bound<K: Key>(bounds: &mut Vec<(K, u32)>, key: K, entry: u32) {
    if let Some(last) = bounds.last_mut()
        && last.0 == key
    {
        last.1 = entry;
        let len = bounds.len();
        if len >= 2 && bounds.get(len - 2).is_some_and(|before| before.1 == entry) {
            bounds.pop();
        }
        return;
    }
    if bounds.last().is_some_and(|last| last.1 == entry) {
        return;
    }
    bounds.push((key, entry));
}

/// The radix directory over sorted `keys`.
fn directory<K: Key>(keys: &[K]) -> (Vec<Table>, Vec<Slot>) {
    // About eight keys per root slot, between 16 and 65 536 slots.
    let wanted = usize::BITS - (keys.len() / 8).leading_zeros();
    let stride = wanted.clamp(4, ROOT_STRIDE_MAX).min(K::BITS);
    let mut tables = Vec::new();
    let mut slots = Vec::new();
    // (table, first key, end of keys) still to fill.
    let mut work = vec![(0_u32, 0_usize, keys.len())];
    tables.push(Table {
        first_slot: 0,
        shift: narrow_bits(K::BITS - stride),
        stride: narrow_bits(stride),
    });
    slots.resize(1 << stride, Slot::default());
    while let Some((index, lo, hi)) = work.pop() {
        let Some(table) = tables.get(index as usize).copied() else {
            continue;
        };
        let (shift, stride) = (u32::from(table.shift), u32::from(table.stride));
        let mut at = lo;
        for slot in 0..(1_usize << stride) {
            let start = at;
            while keys
                .get(at)
                .is_some_and(|key| at < hi && key.bits(shift, stride) == slot)
            {
                at += 1;
            }
            let mut filled = Slot {
                lo: narrow(start),
                hi: narrow(at),
            };
            if at - start > LEAF_MAX && shift > 0 {
                let child_stride = CHILD_STRIDE.min(shift);
                let child = narrow(tables.len());
                tables.push(Table {
                    first_slot: narrow(slots.len()),
                    shift: narrow_bits(shift - child_stride),
                    stride: narrow_bits(child_stride),
                });
                slots.resize(slots.len() + (1 << child_stride), Slot::default());
                work.push((child, start, at));
                filled = Slot {
                    lo: child,
                    hi: CHILD,
                };
            }
            if let Some(target) = slots.get_mut(table.first_slot as usize + slot) {
                *target = filled;
            }
        }
    }
    tables.shrink_to_fit();
    slots.shrink_to_fit();
    (tables, slots)
}

/// A position in the key or slot arrays as stored: a snapshot holds fewer
/// than `u32::MAX` entries, so its index fewer than `u32::MAX` keys and slots.
fn narrow(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A bit position or stride, at most 128.
fn narrow_bits(value: u32) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(start: u32, len: u8, entry: u32) -> Network<u32> {
        Network { start, len, entry }
    }

    fn index(networks: Vec<Network<u32>>) -> RangeIndex<u32> {
        RangeIndex::build(networks, |entry| entry, &mut |_, _| {})
    }

    #[test]
    fn empty_index_answers_none_everywhere() {
        let empty = RangeIndex::<u32>::default();
        for address in [0, 1, u32::MAX / 2, u32::MAX] {
            assert_eq!(empty.lookup(address), NONE);
        }
        assert_eq!(RangeIndex::<u128>::default().lookup(u128::MAX), NONE);
    }

    #[test]
    fn nested_networks_answer_most_specific_first() {
        let idx = index(vec![
            net(0x0a00_0000, 8, 1),
            net(0x0a01_0000, 16, 2),
            net(0x0a01_0203, 32, 3),
            net(0x0a01_0203, 32, 0),
        ]);
        assert_eq!(idx.lookup(0x09ff_ffff), NONE);
        assert_eq!(idx.lookup(0x0a00_0000), 1);
        assert_eq!(idx.lookup(0x0a01_0000), 2);
        assert_eq!(idx.lookup(0x0a01_0202), 2);
        assert_eq!(idx.lookup(0x0a01_0203), 0);
        assert_eq!(idx.lookup(0x0a01_0204), 2);
        assert_eq!(idx.lookup(0x0a02_0000), 1);
        assert_eq!(idx.lookup(0x0aff_ffff), 1);
        assert_eq!(idx.lookup(0x0b00_0000), NONE);
    }

    #[test]
    fn ipv6_keys_pack_and_unpack() {
        for key in [
            0_u128,
            1,
            u128::MAX,
            0x2001_0db8_0000_0000_0000_0000_0000_0001,
        ] {
            assert_eq!(u128::unpack(key.pack()), key);
        }
    }

    #[test]
    fn whole_space_and_last_address() {
        let idx = index(vec![net(0, 0, 7), net(u32::MAX, 32, 8)]);
        assert_eq!(idx.lookup(0), 7);
        assert_eq!(idx.lookup(u32::MAX - 1), 7);
        assert_eq!(idx.lookup(u32::MAX), 8);
    }

    #[test]
    fn fallbacks_follow_the_network_around() {
        let mut next = std::collections::BTreeMap::new();
        RangeIndex::<u32>::build(
            vec![
                net(0x0a00_0000, 8, 5),
                net(0x0a00_0000, 8, 1),
                net(0x0a01_0000, 16, 2),
            ],
            |entry| entry,
            &mut |entry, fallback| {
                next.insert(entry, fallback);
            },
        );
        assert_eq!(next.get(&1), Some(&5));
        assert_eq!(next.get(&5), Some(&NONE));
        assert_eq!(next.get(&2), Some(&1));
    }

    #[test]
    fn dense_slots_are_split_and_still_exact() {
        // 4 096 host bans in one /16: far more than a leaf holds.
        let networks: Vec<_> = (0..4096_u32)
            .map(|i| net(0xc000_0000 | (i * 7), 32, i))
            .collect();
        let idx = index(networks);
        assert!(idx.tables.len() > 1);
        for i in 0..4096_u32 {
            assert_eq!(idx.lookup(0xc000_0000 | (i * 7)), i);
            assert_eq!(idx.lookup(0xc000_0000 | (i * 7 + 1)), NONE);
        }
    }
}
