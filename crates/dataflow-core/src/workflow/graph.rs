//! The dependency graph of a workflow: execution levels (Kahn's algorithm) and cycles.
//!
//! Nodes are indexes in insertion order; every result keeps that order so levels, cycles and
//! messages are deterministic.

/// A directed graph: an edge `a → b` means `b` needs the result of `a`.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    preds: Vec<Vec<usize>>,
    succs: Vec<Vec<usize>>,
}

impl Graph {
    /// A graph of `n` nodes with the given edges (duplicates ignored).
    pub fn new(n: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Graph {
        let mut g = Graph { preds: vec![Vec::new(); n], succs: vec![Vec::new(); n] };
        for (a, b) in edges {
            if a < n && b < n && !g.succs[a].contains(&b) {
                g.succs[a].push(b);
                g.preds[b].push(a);
            }
        }
        for v in g.preds.iter_mut().chain(g.succs.iter_mut()) {
            v.sort_unstable();
        }
        g
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.preds.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.preds.is_empty()
    }

    /// The nodes whose results `node` needs.
    pub fn preds(&self, node: usize) -> &[usize] {
        &self.preds[node]
    }

    /// The nodes that need `node`'s result.
    pub fn succs(&self, node: usize) -> &[usize] {
        &self.succs[node]
    }

    /// Execution levels: level 0 has no dependencies, level k depends only on earlier levels.
    /// Nodes on or behind a cycle are returned separately (they can never run).
    pub fn levels(&self) -> (Vec<Vec<usize>>, Vec<usize>) {
        let n = self.len();
        let mut indeg: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut level: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut levels = Vec::new();
        let mut placed = vec![false; n];
        while !level.is_empty() {
            let mut next = Vec::new();
            for &i in &level {
                placed[i] = true;
                for &s in &self.succs[i] {
                    indeg[s] -= 1;
                    if indeg[s] == 0 {
                        next.push(s);
                    }
                }
            }
            next.sort_unstable();
            levels.push(std::mem::replace(&mut level, next));
        }
        let stuck = (0..n).filter(|&i| !placed[i]).collect();
        (levels, stuck)
    }

    /// One cycle per strongly connected component that has one, each as the node path
    /// `[a, b, c]` meaning `a → b → c → a`, starting at the component's first node.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        for comp in self.sccs() {
            let start = comp[0];
            let cyclic = comp.len() > 1 || self.succs[start].contains(&start);
            if !cyclic {
                continue;
            }
            if let Some(path) = self.path_back(start, &comp) {
                out.push(path);
            }
        }
        out.sort();
        out
    }

    /// A path from `start` back to itself staying inside `comp` (BFS: shortest cycle).
    fn path_back(&self, start: usize, comp: &[usize]) -> Option<Vec<usize>> {
        let mut prev = vec![usize::MAX; self.len()];
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            for &s in &self.succs[v] {
                if !comp.contains(&s) {
                    continue;
                }
                if s == start {
                    let mut path = vec![v];
                    let mut cur = v;
                    while cur != start {
                        cur = prev[cur];
                        path.push(cur);
                    }
                    path.reverse();
                    return Some(path);
                }
                if prev[s] == usize::MAX {
                    prev[s] = v;
                    queue.push_back(s);
                }
            }
        }
        None
    }

    /// Strongly connected components (iterative Tarjan), each sorted.
    fn sccs(&self) -> Vec<Vec<usize>> {
        let n = self.len();
        let (mut index, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
        let (mut stack, mut comps, mut next) = (Vec::new(), Vec::new(), 0);
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work = vec![(root, 0usize)];
            while let Some(&mut (v, ref mut i)) = work.last_mut() {
                if *i == 0 && index[v] == usize::MAX {
                    index[v] = next;
                    low[v] = next;
                    next += 1;
                    stack.push(v);
                    on[v] = true;
                }
                if let Some(&w) = self.succs[v].get(*i) {
                    *i += 1;
                    if index[w] == usize::MAX {
                        work.push((w, 0));
                    } else if on[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    comps.push(comp);
                }
            }
        }
        comps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_cycles() {
        // 0 → 1 → 3, 0 → 2 → 3, 4 alone
        let g = Graph::new(5, [(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(g.levels(), (vec![vec![0, 4], vec![1, 2], vec![3]], vec![]));
        assert!(g.cycles().is_empty());
        // 0 → 1 → 2 → 0, 2 → 3, self loop on 4
        let g = Graph::new(5, [(0, 1), (1, 2), (2, 0), (2, 3), (4, 4)]);
        let (levels, stuck) = g.levels();
        assert!(levels.is_empty());
        assert_eq!(stuck, vec![0, 1, 2, 3, 4]);
        assert_eq!(g.cycles(), vec![vec![0, 1, 2], vec![4]]);
    }
}
