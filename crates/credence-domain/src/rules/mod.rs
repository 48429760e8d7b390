//! Rules of combination: evaluation and planning. (Being written.)
