//! The organisation tree above the branches: 组织部 → 党委 / 党工委 → 党总支 → 党支部.
//!
//! The whole tree is small (a province has a few thousand organisations), so it is read once per
//! request and walked in memory; what a person may see is a set of organisations computed here,
//! and every query then filters by it.

use std::collections::{BTreeSet, HashMap};

/// The root organisation's id: created by the migration, never retired or moved.
pub const ROOT: i64 = 1;

/// One organisation as the tree needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// `None` for the root only.
    pub parent_id: Option<i64>,
    pub retired: bool,
}

/// The organisations, retired ones included (old reports still name them).
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    orgs: HashMap<i64, Org>,
    children: HashMap<i64, Vec<i64>>,
}

impl OrgTree {
    pub fn new(orgs: Vec<Org>) -> Self {
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        for org in &orgs {
            if let Some(parent) = org.parent_id {
                children.entry(parent).or_default().push(org.id);
            }
        }
        let orgs: HashMap<i64, Org> = orgs.into_iter().map(|o| (o.id, o)).collect();
        for list in children.values_mut() {
            list.sort_by(|a, b| orgs[a].name.cmp(&orgs[b].name).then(a.cmp(b)));
        }
        Self { orgs, children }
    }

    pub fn get(&self, id: i64) -> Option<&Org> {
        self.orgs.get(&id)
    }

    pub fn len(&self) -> usize {
        self.orgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orgs.is_empty()
    }

    /// Live children, by name.
    pub fn children(&self, id: i64) -> impl Iterator<Item = &Org> {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.orgs.get(c))
    }

    /// `id` and everything below it (retired organisations included: their history is theirs).
    pub fn subtree(&self, id: i64) -> BTreeSet<i64> {
        let mut found = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            // A damaged row could make a cycle; the set stops the walk from looping.
            if self.orgs.contains_key(&next) && found.insert(next) {
                stack.extend(self.children.get(&next).into_iter().flatten().copied());
            }
        }
        found
    }

    /// The union of the subtrees of `roots`.
    pub fn subtrees(&self, roots: &[i64]) -> BTreeSet<i64> {
        roots.iter().flat_map(|&r| self.subtree(r)).collect()
    }

    /// From the root down to `id`, both included; empty for an unknown id.
    pub fn path(&self, id: i64) -> Vec<&Org> {
        let mut path = Vec::new();
        let mut at = Some(id);
        while let Some(current) = at.and_then(|i| self.orgs.get(&i)) {
            if path.len() > self.orgs.len() {
                break;
            }
            path.push(current);
            at = current.parent_id;
        }
        path.reverse();
        path
    }

    /// From `id` up to the root, `id` first.
    pub fn ancestors(&self, id: i64) -> Vec<i64> {
        let mut up: Vec<i64> = self.path(id).iter().map(|o| o.id).collect();
        up.reverse();
        up
    }

    /// Whether `descendant` is `ancestor` or below it.
    pub fn is_within(&self, descendant: i64, ancestor: i64) -> bool {
        self.ancestors(descendant).contains(&ancestor)
    }

    /// Live organisations named `name`.
    pub fn by_name(&self, name: &str) -> Vec<&Org> {
        let mut found: Vec<&Org> = self
            .orgs
            .values()
            .filter(|o| !o.retired && o.name == name)
            .collect();
        found.sort_by_key(|o| o.id);
        found
    }

    /// A live child of `parent` named `name`.
    pub fn child_named(&self, parent: i64, name: &str) -> Option<&Org> {
        self.children(parent).find(|o| !o.retired && o.name == name)
    }

    /// Every organisation in depth-first order below `top` (included), with its depth from
    /// `top`: the order a roll-up report lists them in.
    pub fn walk(&self, top: i64) -> Vec<(usize, &Org)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, top)];
        let mut seen = BTreeSet::new();
        while let Some((depth, id)) = stack.pop() {
            let Some(org) = self.orgs.get(&id) else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            out.push((depth, org));
            let kids: Vec<i64> = self.children(id).map(|c| c.id).collect();
            stack.extend(kids.into_iter().rev().map(|c| (depth + 1, c)));
        }
        out
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveRefusal {
    Root,
    UnknownOrg,
    UnknownParent,
    RetiredParent,
    /// The new parent is the organisation itself or below it.
    Cycle,
    /// A live sibling under the new parent has the same name.
    DuplicateName,
}

/// Checks that `id` may be placed under `new_parent`.
pub fn check_move(tree: &OrgTree, id: i64, new_parent: i64) -> Result<(), MoveRefusal> {
    let org = tree.get(id).ok_or(MoveRefusal::UnknownOrg)?;
    if id == ROOT {
        return Err(MoveRefusal::Root);
    }
    let parent = tree.get(new_parent).ok_or(MoveRefusal::UnknownParent)?;
    if parent.retired {
        return Err(MoveRefusal::RetiredParent);
    }
    if tree.is_within(new_parent, id) {
        return Err(MoveRefusal::Cycle);
    }
    match tree.child_named(new_parent, &org.name) {
        Some(other) if other.id != id => Err(MoveRefusal::DuplicateName),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn org(id: i64, name: &str, parent: Option<i64>) -> Org {
        Org {
            id,
            name: name.into(),
            kind: "党委".into(),
            parent_id: parent,
            retired: false,
        }
    }

    fn county() -> OrgTree {
        OrgTree::new(vec![
            org(1, "县委组织部", None),
            org(2, "城关镇党委", Some(1)),
            org(3, "河口乡党委", Some(1)),
            org(4, "城关镇机关党总支", Some(2)),
        ])
    }

    #[test]
    fn subtrees_paths_and_walks() {
        let tree = county();
        assert_eq!(tree.subtree(2), BTreeSet::from([2, 4]));
        assert_eq!(tree.subtree(1).len(), 4);
        assert_eq!(tree.subtree(99), BTreeSet::new());
        let path: Vec<&str> = tree.path(4).iter().map(|o| o.name.as_str()).collect();
        assert_eq!(path, ["县委组织部", "城关镇党委", "城关镇机关党总支"]);
        assert_eq!(tree.ancestors(4), [4, 2, 1]);
        assert!(tree.is_within(4, 2) && !tree.is_within(4, 3) && tree.is_within(2, 2));
        let walk: Vec<(usize, i64)> = tree.walk(1).iter().map(|(d, o)| (*d, o.id)).collect();
        assert_eq!(walk.len(), 4);
        assert_eq!(walk[0], (0, 1));
        let pos = |id| walk.iter().position(|(_, o)| *o == id).unwrap();
        assert_eq!(pos(4), pos(2) + 1, "a child follows its parent");
    }

    #[test]
    fn moves_that_would_break_the_tree_are_refused() {
        let tree = county();
        assert_eq!(check_move(&tree, 2, 4), Err(MoveRefusal::Cycle));
        assert_eq!(check_move(&tree, 2, 2), Err(MoveRefusal::Cycle));
        assert_eq!(check_move(&tree, 1, 2), Err(MoveRefusal::Root));
        assert_eq!(check_move(&tree, 4, 9), Err(MoveRefusal::UnknownParent));
        assert_eq!(check_move(&tree, 4, 3), Ok(()));
        let mut orgs = vec![
            org(1, "县委组织部", None),
            org(2, "城关镇党委", Some(1)),
            org(3, "河口乡党委", Some(1)),
            org(4, "机关党总支", Some(2)),
            org(5, "机关党总支", Some(3)),
        ];
        assert_eq!(
            check_move(&OrgTree::new(orgs.clone()), 4, 3),
            Err(MoveRefusal::DuplicateName)
        );
        orgs[2].retired = true;
        assert_eq!(
            check_move(&OrgTree::new(orgs), 4, 3),
            Err(MoveRefusal::RetiredParent)
        );
    }

    proptest! {
        /// Any sequence of accepted moves keeps a tree: every organisation still reaches the
        /// root, and the subtrees of the root's children never overlap.
        #[test]
        fn accepted_moves_keep_a_tree(moves in proptest::collection::vec((2i64..12, 1i64..12), 0..40)) {
            let mut orgs: Vec<Org> = (1..12)
                .map(|id| org(id, &format!("组织{id}"), (id > 1).then_some((id - 1) / 2 + 1).filter(|p| *p != id)))
                .collect();
            orgs[0].parent_id = None;
            for (id, parent) in moves {
                let tree = OrgTree::new(orgs.clone());
                if check_move(&tree, id, parent).is_ok() {
                    orgs[(id - 1) as usize].parent_id = Some(parent);
                }
            }
            let tree = OrgTree::new(orgs);
            for id in 1..12 {
                prop_assert_eq!(tree.ancestors(id).last().copied(), Some(ROOT));
            }
            let kids: Vec<i64> = tree.children(ROOT).map(|o| o.id).collect();
            let total: usize = kids.iter().map(|k| tree.subtree(*k).len()).sum();
            prop_assert_eq!(total + 1, tree.subtree(ROOT).len());
        }
    }
}
