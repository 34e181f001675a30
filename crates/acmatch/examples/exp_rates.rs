// temporary experiment, not committed
use workload::scaling::{data_root, Corpus, Lang};

fn fp(p: &[u8], k: usize) -> Vec<u16> {
    (0..k)
        .map(|j| p.len().checked_sub(j + 1).map_or(256, |i| p[i] as u16))
        .collect()
}

fn greedy(
    prints: &[Vec<u16>],
    pats: &[Vec<u8>],
    k: usize,
    buckets: usize,
    key: &dyn Fn(u8) -> (usize, usize),
) -> Vec<usize> {
    let mut freq = [0f64; 256];
    let mut tot = 0.0;
    for p in pats {
        for &b in p {
            freq[b as usize] += 1.0;
            tot += 1.0;
        }
    }
    for f in freq.iter_mut() {
        *f /= tot;
    }
    // admitted sets per bucket per position as tables over 256 bytes of (lo set, hi set)
    let mut lo = vec![vec![[false; 256]; k]; buckets];
    let mut hi = vec![vec![[false; 256]; k]; buckets];
    let brate = |lo: &Vec<[bool; 256]>, hi: &Vec<[bool; 256]>| -> f64 {
        let mut r = 1.0;
        for j in 0..k {
            let mut a = 0.0;
            for x in 0..256u32 {
                let (l, h) = key(x as u8);
                if lo[j][l] && hi[j][h] {
                    a += freq[x as usize];
                }
            }
            r *= a;
        }
        r
    };
    let mut order: Vec<usize> = (0..prints.len()).collect();
    // wildcard-heavy first, then by rarity of last byte
    order.sort_by(|&a, &b| {
        let wa = prints[a].iter().filter(|&&x| x == 256).count();
        let wb = prints[b].iter().filter(|&&x| x == 256).count();
        wb.cmp(&wa).then(prints[a].cmp(&prints[b]))
    });
    let mut assign = vec![0; prints.len()];
    let mut cur: Vec<f64> = vec![0.0; buckets];
    for &i in &order {
        let mut best = (f64::MAX, 0);
        for b in 0..buckets {
            let (mut l2, mut h2) = (lo[b].clone(), hi[b].clone());
            for (j, &x) in prints[i].iter().enumerate() {
                if x == 256 {
                    l2[j] = [true; 256];
                    h2[j] = [true; 256];
                } else {
                    let (a, c) = key(x as u8);
                    l2[j][a] = true;
                    h2[j][c] = true;
                }
            }
            let d = brate(&l2, &h2) - cur[b];
            if d < best.0 {
                best = (d, b);
            }
        }
        let b = best.1;
        for (j, &x) in prints[i].iter().enumerate() {
            if x == 256 {
                lo[b][j] = [true; 256];
                hi[b][j] = [true; 256];
            } else {
                let (a, c) = key(x as u8);
                lo[b][j][a] = true;
                hi[b][j][c] = true;
            }
        }
        cur[b] = brate(&lo[b], &hi[b]);
        assign[i] = b;
    }
    assign
}

fn rate(
    pats: &[Vec<u8>],
    text: &[u8],
    k: usize,
    buckets: usize,
    key: &dyn Fn(u8) -> (usize, usize),
) -> f64 {
    let mut prints: Vec<Vec<u16>> = pats.iter().map(|p| fp(p, k)).collect();
    prints.sort();
    prints.dedup();
    let n = prints.len();
    let assign = if std::env::var("GREEDY").is_ok() {
        greedy(&prints, pats, k, buckets, key)
    } else {
        (0..n).map(|i| i * buckets / n).collect()
    };
    let mut lo = vec![[0u32; 256]; k];
    let mut hi = vec![[0u32; 256]; k];
    for (i, pr) in prints.iter().enumerate() {
        let bit = 1u32 << assign[i];
        for (j, &b) in pr.iter().enumerate() {
            if b == 256 {
                for x in 0..256 {
                    lo[j][x] |= bit;
                    hi[j][x] |= bit;
                }
            } else {
                let (a, c) = key(b as u8);
                lo[j][a] |= bit;
                hi[j][c] |= bit;
            }
        }
    }
    let mut tab = vec![[0u32; 256]; k];
    for j in 0..k {
        for x in 0..256u32 {
            let (a, c) = key(x as u8);
            tab[j][x as usize] = lo[j][a] & hi[j][c];
        }
    }
    let mut cand = 0usize;
    for i in k..text.len() {
        let mut acc = u32::MAX;
        for j in 0..k {
            acc &= tab[j][text[i - j] as usize];
        }
        cand += (acc != 0) as usize;
    }
    cand as f64 / text.len() as f64
}

fn main() {
    let root = data_root(None).unwrap();
    let nib = |b: u8| ((b & 15) as usize, (b >> 4) as usize);
    let mid = |b: u8| ((b & 15) as usize, ((b >> 3) & 15) as usize);
    let exact = |b: u8| (b as usize, 0usize);
    for lang in Lang::ALL {
        let c = Corpus::load(&root, lang).unwrap();
        let text = &c.text[..2_000_000.min(c.text.len())];
        for n in [100] {
            let pats = c.sample(n);
            for k in [3, 4] {
                for b in [8, 16] {
                    println!(
                        "{} n={n} k={k} buckets={b}: nibble {:.4} mid {:.4} exact {:.4}",
                        lang.code(),
                        rate(&pats, text, k, b, &nib),
                        rate(&pats, text, k, b, &mid),
                        rate(&pats, text, k, b, &exact)
                    );
                }
            }
        }
    }
}
