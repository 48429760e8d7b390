//! A fixed-size set of unit indices (`0..MAX_UNITS`) of one compiled qualification.

const WORDS: usize = 4;

/// Most units one qualification may name for the rules engine. The largest seed qualification
/// (ISP L5 Certificate/Diploma) names 32.
pub const MAX_UNITS: usize = WORDS * 64;

/// A set of unit indices of one [`super::CompiledQualification`], as a bit set. Copy, no heap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct UnitSet([u64; WORDS]);

impl UnitSet {
    pub const EMPTY: UnitSet = UnitSet([0; WORDS]);

    pub fn new() -> Self {
        Self::EMPTY
    }

    /// The set `{0, 1, ..., n-1}` (n at most [`MAX_UNITS`]).
    pub fn first_n(n: usize) -> Self {
        let mut s = Self::EMPTY;
        for i in 0..n.min(MAX_UNITS) {
            s.insert(i);
        }
        s
    }

    /// Add index `i`; indices at or past [`MAX_UNITS`] are ignored.
    #[inline]
    pub fn insert(&mut self, i: usize) {
        if i < MAX_UNITS {
            self.0[i >> 6] |= 1u64 << (i & 63);
        }
    }

    #[inline]
    pub fn remove(&mut self, i: usize) {
        if i < MAX_UNITS {
            self.0[i >> 6] &= !(1u64 << (i & 63));
        }
    }

    #[inline]
    pub fn contains(&self, i: usize) -> bool {
        i < MAX_UNITS && self.0[i >> 6] & (1u64 << (i & 63)) != 0
    }

    #[inline]
    pub fn with(mut self, i: usize) -> Self {
        self.insert(i);
        self
    }

    #[inline]
    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    #[inline]
    pub fn and(&self, o: &UnitSet) -> UnitSet {
        let mut r = [0u64; WORDS];
        for (k, r) in r.iter_mut().enumerate() {
            *r = self.0[k] & o.0[k];
        }
        UnitSet(r)
    }

    #[inline]
    pub fn or(&self, o: &UnitSet) -> UnitSet {
        let mut r = [0u64; WORDS];
        for (k, r) in r.iter_mut().enumerate() {
            *r = self.0[k] | o.0[k];
        }
        UnitSet(r)
    }

    /// `self \ o`
    #[inline]
    pub fn minus(&self, o: &UnitSet) -> UnitSet {
        let mut r = [0u64; WORDS];
        for (k, r) in r.iter_mut().enumerate() {
            *r = self.0[k] & !o.0[k];
        }
        UnitSet(r)
    }

    #[inline]
    pub fn is_subset(&self, o: &UnitSet) -> bool {
        (0..WORDS).all(|k| self.0[k] & !o.0[k] == 0)
    }

    #[inline]
    pub fn intersects(&self, o: &UnitSet) -> bool {
        (0..WORDS).any(|k| self.0[k] & o.0[k] != 0)
    }

    /// The indices in ascending order.
    #[inline]
    pub fn iter(&self) -> UnitSetIter {
        UnitSetIter {
            words: self.0,
            word: 0,
        }
    }
}

impl FromIterator<usize> for UnitSet {
    fn from_iter<T: IntoIterator<Item = usize>>(iter: T) -> Self {
        let mut s = UnitSet::EMPTY;
        for i in iter {
            s.insert(i);
        }
        s
    }
}

/// Iterator over a [`UnitSet`]'s indices, ascending.
pub struct UnitSetIter {
    words: [u64; WORDS],
    word: usize,
}

impl Iterator for UnitSetIter {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.word < WORDS {
            let w = self.words[self.word];
            if w != 0 {
                let bit = w.trailing_zeros() as usize;
                self.words[self.word] = w & (w - 1);
                return Some(self.word * 64 + bit);
            }
            self.word += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a: UnitSet = [0, 3, 64, 200].into_iter().collect();
        let b: UnitSet = [3, 5, 200].into_iter().collect();
        assert_eq!(a.len(), 4);
        assert_eq!(a.and(&b).iter().collect::<Vec<_>>(), vec![3, 200]);
        assert_eq!(a.minus(&b).iter().collect::<Vec<_>>(), vec![0, 64]);
        assert_eq!(a.or(&b).len(), 5);
        assert!(a.and(&b).is_subset(&a));
        assert!(!a.is_subset(&b));
        assert!(a.contains(64) && !a.contains(65));
        let mut c = a;
        c.remove(64);
        c.insert(MAX_UNITS + 3);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![0, 3, 200]);
        assert_eq!(UnitSet::first_n(70).len(), 70);
        assert!(UnitSet::EMPTY.is_empty());
    }
}
