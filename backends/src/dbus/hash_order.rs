//! The order in which GLib 2.74 iterates a string-keyed `GHashTable`.
//!
//! Flatpak 1.14 emits one proxy rule per bus-policy entry while iterating the context's
//! `GHashTable` (`flatpak_context_add_bus_filters`), so its argument order is the table's
//! bucket order. Reproducing it keeps our arguments identical to Flatpak's, line for line.
//! The model: `g_str_hash` (djb2 over signed chars), initial bucket `(hash * 11) % prime`
//! with the prime below the power-of-two table size, quadratic probing, and growth when
//! the table is more than 15/16 full, rehashing in place in bucket order (GLib's
//! `g_hash_table_resize`). Keys are inserted in the order given; only colliding keys
//! depend on that order.

/// GLib's smallest table: 8 buckets.
const MIN_SHIFT: u32 = 3;

/// `prime_mod[shift]` from GLib: the largest prime below `1 << shift`.
const PRIME_MOD: [u32; 32] = [
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
    262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689,
    268435399, 536870909, 1073741789, 2147483647,
];

/// `g_str_hash`: `h = h * 33 + c` from 5381, over the bytes read as signed chars.
pub fn g_str_hash(key: &str) -> u32 {
    key.bytes().fold(5381u32, |h, b| {
        h.wrapping_shl(5)
            .wrapping_add(h)
            .wrapping_add(b as i8 as i32 as u32)
    })
}

struct Table {
    shift: u32,
    /// Stored hash per bucket (0 = unused; GLib never stores 0 or 1 for a real key).
    hashes: Vec<u32>,
    /// Index of the key (in insertion order) per bucket.
    slots: Vec<usize>,
    nodes: usize,
}

impl Table {
    fn new() -> Table {
        let size = 1usize << MIN_SHIFT;
        Table {
            shift: MIN_SHIFT,
            hashes: vec![0; size],
            slots: vec![0; size],
            nodes: 0,
        }
    }

    fn mask(&self) -> usize {
        (1usize << self.shift) - 1
    }

    fn home(&self, hash: u32) -> usize {
        (hash.wrapping_mul(11) % PRIME_MOD[self.shift as usize]) as usize
    }

    /// Inserts a key that is not in the table yet (callers deduplicate).
    fn insert(&mut self, hash: u32, slot: usize) {
        let mut index = self.home(hash);
        let mut step = 0;
        while self.hashes[index] != 0 {
            step += 1;
            index = (index + step) & self.mask();
        }
        self.hashes[index] = hash;
        self.slots[index] = slot;
        self.nodes += 1;
        // No tombstones here (nothing is removed), so occupied == nodes.
        let size = self.hashes.len();
        if size <= self.nodes + self.nodes / 16 {
            self.grow();
        }
    }

    /// `g_hash_table_resize` for a growing table without tombstones.
    fn grow(&mut self) {
        let old_size = self.hashes.len();
        let wanted = (self.nodes as f64 * 1.333) as u64;
        let shift = (64 - wanted.leading_zeros()).max(MIN_SHIFT);
        self.shift = shift;
        let size = 1usize << shift;
        self.hashes.resize(size, 0);
        self.slots.resize(size, 0);
        let mut moved = vec![false; size];
        for i in 0..old_size {
            if self.hashes[i] == 0 || moved[i] {
                continue;
            }
            let mut hash = self.hashes[i];
            let mut slot = self.slots[i];
            self.hashes[i] = 0;
            loop {
                let mut index = self.home(hash);
                let mut step = 0;
                while moved[index] {
                    step += 1;
                    index = (index + step) & self.mask();
                }
                moved[index] = true;
                let evicted = (self.hashes[index], self.slots[index]);
                self.hashes[index] = hash;
                self.slots[index] = slot;
                if evicted.0 == 0 {
                    break;
                }
                (hash, slot) = evicted;
            }
        }
    }
}

/// The positions of `keys` (distinct strings, in insertion order) in the order a GLib
/// `GHashTable` with `g_str_hash` iterates them.
pub fn iteration_order<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let mut table = Table::new();
    for (slot, key) in keys.into_iter().enumerate() {
        let hash = g_str_hash(key).max(2);
        table.insert(hash, slot);
    }
    table
        .hashes
        .iter()
        .zip(&table.slots)
        .filter(|(hash, _)| **hash != 0)
        .map(|(_, slot)| *slot)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn djb2_over_signed_chars() {
        assert_eq!(g_str_hash(""), 5381);
        assert_eq!(g_str_hash("org.a11y.Bus"), 1071231663);
        // A byte above 0x7f is sign-extended, as in GLib.
        assert_eq!(g_str_hash("\u{e9}"), {
            let h = 5381u32.wrapping_mul(33).wrapping_add(0xc3u8 as i8 as u32);
            h.wrapping_mul(33).wrapping_add(0xa9u8 as i8 as u32)
        });
    }

    #[test]
    fn browser_like_oracle_order() {
        // The order real Flatpak 1.14 printed for the oracle's browser-like case.
        let keys = [
            "org.a11y.Bus",
            "org.freedesktop.FileManager1",
            "org.freedesktop.Notifications",
            "org.mozilla.firefox.*",
            "org.mpris.MediaPlayer2.firefox.*",
        ];
        let order: Vec<&str> = iteration_order(keys).into_iter().map(|i| keys[i]).collect();
        assert_eq!(
            order,
            [
                "org.freedesktop.Notifications",
                "org.mozilla.firefox.*",
                "org.mpris.MediaPlayer2.firefox.*",
                "org.a11y.Bus",
                "org.freedesktop.FileManager1",
            ]
        );
    }

    #[test]
    fn every_key_comes_out_once_after_growth() {
        let keys: Vec<String> = (0..200).map(|i| format!("org.example.N{i}")).collect();
        let mut order = iteration_order(keys.iter().map(String::as_str));
        order.sort_unstable();
        assert_eq!(order, (0..200).collect::<Vec<_>>());
    }
}
