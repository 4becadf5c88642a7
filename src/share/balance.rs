//! The fair-share rule of the lease keeper: how many leases of one kind
//! to claim or hand back this round.

/// How many leases of one kind to claim or hand back this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub claim: usize,
    pub release: usize,
}

/// The fair-share rule. `mine`: what this instance holds; `others`: what
/// each other instance holding some has; `total`: how many there are;
/// `live`: live instances, this one included. Claim up to the fair share
/// (`ceil(total/live)`): a dead instance's work is taken once its leases
/// ended, and once it is no longer counted live, by those below the new
/// share. Hand back what is over the share
/// by more than one while another instance is below it (a newcomer).
pub fn balance(mine: usize, others: &[usize], total: usize, live: usize) -> Balance {
    let live = live.max(others.len() + 1);
    let share = total.div_ceil(live);
    let held = mine + others.iter().sum::<usize>();
    let free = total.saturating_sub(held);
    let someone_below = others.len() + 1 < live || others.iter().any(|&n| n < share);
    // (Work still free while everyone has the share cannot be: the
    // shares of the live instances cover the total.)
    let claim = share.saturating_sub(mine).min(free);
    let release = if claim == 0 && mine > share + 1 && someone_below {
        mine - share
    } else {
        0
    };
    Balance { claim, release }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_up_to_the_fair_share() {
        // Alone: everything.
        assert_eq!(
            balance(0, &[], 10, 1),
            Balance {
                claim: 10,
                release: 0
            }
        );
        // Three live, nothing held yet: a third each (rounded up).
        assert_eq!(balance(0, &[0, 0], 10, 3).claim, 4);
        assert_eq!(balance(0, &[], 10, 3).claim, 4);
        // At the share while another is below it: leave the rest to it.
        assert_eq!(balance(4, &[2], 10, 3).claim, 0);
        assert_eq!(balance(4, &[], 10, 3).claim, 0);
        // A third instance died: the two left take a half each, in turns.
        assert_eq!(balance(4, &[4], 10, 2).claim, 1);
        assert_eq!(balance(1, &[1], 3, 2).claim, 1);
        // At the share: no more, even with work free.
        assert_eq!(balance(3, &[2], 6, 2).claim, 0);
        assert_eq!(balance(2, &[2], 5, 2).claim, 1);
        // Never more than is free.
        assert_eq!(balance(0, &[9], 10, 2).claim, 1);
    }

    #[test]
    fn hands_back_what_is_over_the_share_when_another_is_below() {
        // A newcomer (live, holding nothing): the holder of all gives half.
        assert_eq!(
            balance(10, &[], 10, 2),
            Balance {
                claim: 0,
                release: 5
            }
        );
        // Three senders, a third instance comes: the holder of all three
        // keeps one.
        assert_eq!(balance(3, &[], 3, 3).release, 2);
        // Within one of the share: keep (no ping-pong).
        assert_eq!(balance(4, &[3, 3], 10, 3).release, 0);
        // Over the share but nobody below it: keep.
        assert_eq!(balance(6, &[4], 10, 2).release, 0);
    }
}
