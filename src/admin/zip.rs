//! Just enough of the zip format to import a task's tests from an archive of `N.in`/`N.out`
//! files: the central directory, stored and deflated entries (a small inflater after RFC 1951,
//! since no zip crate is among the dependencies), each checked against its CRC-32. An entry
//! larger than `limit` is refused before it is inflated any further: an archive is hostile.

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ZipError {
    #[error("not a zip archive")]
    NotZip,
    #[error("the archive is damaged")]
    Corrupt,
    #[error("{0}: compressed in a way we cannot read (use stored or deflate)")]
    Method(String),
    #[error("{0}: encrypted")]
    Encrypted(String),
    #[error("{0}: too large")]
    TooLarge(String),
}

/// One file of an archive.
pub struct Entry {
    pub name: String,
    pub data: Vec<u8>,
}

fn u16_at(b: &[u8], i: usize) -> Result<usize, ZipError> {
    b.get(i..i + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
        .ok_or(ZipError::Corrupt)
}

fn u32_at(b: &[u8], i: usize) -> Result<usize, ZipError> {
    b.get(i..i + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or(ZipError::Corrupt)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The archive's files (folders skipped), each at most `limit` bytes.
pub fn entries(b: &[u8], limit: usize) -> Result<Vec<Entry>, ZipError> {
    if b.len() < 22 {
        return Err(ZipError::NotZip);
    }
    let lowest = b.len().saturating_sub(22 + 65_535);
    let eocd = (lowest..=b.len() - 22)
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or(ZipError::NotZip)?;
    let count = u16_at(b, eocd + 10)?;
    let mut at = u32_at(b, eocd + 16)?;
    let mut out = Vec::new();
    for _ in 0..count {
        if b.get(at..at + 4) != Some(&[0x50, 0x4b, 0x01, 0x02][..]) {
            return Err(ZipError::Corrupt);
        }
        let (flags, method) = (u16_at(b, at + 8)?, u16_at(b, at + 10)?);
        let crc = u32_at(b, at + 16)? as u32;
        let (packed, size) = (u32_at(b, at + 20)?, u32_at(b, at + 24)?);
        let (n, e, c) = (u16_at(b, at + 28)?, u16_at(b, at + 30)?, u16_at(b, at + 32)?);
        let local = u32_at(b, at + 42)?;
        let name = String::from_utf8_lossy(b.get(at + 46..at + 46 + n).ok_or(ZipError::Corrupt)?).into_owned();
        at += 46 + n + e + c;
        if name.ends_with('/') {
            continue;
        }
        if flags & 1 == 1 {
            return Err(ZipError::Encrypted(name));
        }
        if size > limit {
            return Err(ZipError::TooLarge(name));
        }
        if b.get(local..local + 4) != Some(&[0x50, 0x4b, 0x03, 0x04][..]) {
            return Err(ZipError::Corrupt);
        }
        let start = local + 30 + u16_at(b, local + 26)? + u16_at(b, local + 28)?;
        let raw = b.get(start..start + packed).ok_or(ZipError::Corrupt)?;
        let data = match method {
            0 => raw.to_vec(),
            8 => inflate(raw, limit).map_err(|e| match e {
                ZipError::TooLarge(_) => ZipError::TooLarge(name.clone()),
                e => e,
            })?,
            _ => return Err(ZipError::Method(name)),
        };
        if data.len() != size || crc32(&data) != crc {
            return Err(ZipError::Corrupt);
        }
        out.push(Entry { name, data });
    }
    Ok(out)
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    n: u32,
}

impl Bits<'_> {
    fn need(&mut self, k: u32) -> Result<u32, ZipError> {
        while self.n < k {
            let byte = *self.data.get(self.pos).ok_or(ZipError::Corrupt)?;
            self.buf |= (byte as u32) << self.n;
            self.pos += 1;
            self.n += 8;
        }
        let v = self.buf & ((1u32 << k) - 1);
        self.buf >>= k;
        self.n -= k;
        Ok(v)
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    counts: [i32; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut counts = [0i32; 16];
        for &l in lengths {
            counts[l as usize] += 1;
        }
        counts[0] = 0;
        let mut offs = [0usize; 16];
        for i in 1..15 {
            offs[i + 1] = offs[i] + counts[i] as usize;
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbols[offs[l as usize]] = sym as u16;
                offs[l as usize] += 1;
            }
        }
        Huffman { counts, symbols }
    }

    fn decode(&self, bits: &mut Bits) -> Result<usize, ZipError> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.need(1)? as i32;
            let count = self.counts[len];
            if code - count < first {
                let i = (index + code - first) as usize;
                return self.symbols.get(i).map(|s| *s as usize).ok_or(ZipError::Corrupt);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(ZipError::Corrupt)
    }
}

const LBASE: [usize; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LEXT: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [usize; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DEXT: [u32; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Raw deflate data (no zlib header), at most `limit` bytes out.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, ZipError> {
    let mut bits = Bits {
        data,
        pos: 0,
        buf: 0,
        n: 0,
    };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let last = bits.need(1)? == 1;
        match bits.need(2)? {
            0 => {
                bits.buf = 0;
                bits.n = 0;
                let len = u16_at(data, bits.pos)?;
                let nlen = u16_at(data, bits.pos + 2)?;
                if len != !nlen & 0xffff {
                    return Err(ZipError::Corrupt);
                }
                let block = data.get(bits.pos + 4..bits.pos + 4 + len).ok_or(ZipError::Corrupt)?;
                out.extend_from_slice(block);
                bits.pos += 4 + len;
            }
            1 => {
                let mut l = [8u8; 288];
                l[144..256].fill(9);
                l[256..280].fill(7);
                codes(&mut bits, &mut out, &Huffman::new(&l), &Huffman::new(&[5u8; 30]), limit)?;
            }
            2 => {
                let hlit = bits.need(5)? as usize + 257;
                let hdist = bits.need(5)? as usize + 1;
                let hclen = bits.need(4)? as usize + 4;
                let mut cl = [0u8; 19];
                for &o in ORDER.iter().take(hclen) {
                    cl[o] = bits.need(3)? as u8;
                }
                let clh = Huffman::new(&cl);
                let mut lengths: Vec<u8> = Vec::with_capacity(hlit + hdist);
                while lengths.len() < hlit + hdist {
                    let (value, times) = match clh.decode(&mut bits)? {
                        s @ 0..=15 => (s as u8, 1),
                        16 => (*lengths.last().ok_or(ZipError::Corrupt)?, 3 + bits.need(2)? as usize),
                        17 => (0, 3 + bits.need(3)? as usize),
                        _ => (0, 11 + bits.need(7)? as usize),
                    };
                    lengths.extend(std::iter::repeat_n(value, times));
                }
                if lengths.len() != hlit + hdist {
                    return Err(ZipError::Corrupt);
                }
                let (lit, dist) = lengths.split_at(hlit);
                codes(&mut bits, &mut out, &Huffman::new(lit), &Huffman::new(dist), limit)?;
            }
            _ => return Err(ZipError::Corrupt),
        }
        if out.len() > limit {
            return Err(ZipError::TooLarge(String::new()));
        }
        if last {
            return Ok(out);
        }
    }
}

fn codes(bits: &mut Bits, out: &mut Vec<u8>, lit: &Huffman, dist: &Huffman, limit: usize) -> Result<(), ZipError> {
    loop {
        let sym = lit.decode(bits)?;
        if sym < 256 {
            out.push(sym as u8);
        } else if sym == 256 {
            return Ok(());
        } else {
            let i = sym - 257;
            let len = LBASE.get(i).ok_or(ZipError::Corrupt)? + bits.need(LEXT[i])? as usize;
            let d = dist.decode(bits)?;
            let back = DBASE.get(d).ok_or(ZipError::Corrupt)? + bits.need(DEXT[d])? as usize;
            if back > out.len() {
                return Err(ZipError::Corrupt);
            }
            for _ in 0..len {
                out.push(out[out.len() - back]);
            }
        }
        if out.len() > limit {
            return Err(ZipError::TooLarge(String::new()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_zip_wrote_stored_and_deflated() {
        // Written by Python's zipfile: three deflated entries and one stored (2.in).
        let deflated = include_bytes!("../../tests/data/tests-deflate.zip");
        let e = entries(deflated, 64 * 1024).unwrap();
        let names: Vec<_> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["1.in", "1.out", "2.in", "2.out"]);
        assert!(e[3].data.ends_with(b"zyxwvutsrqponmlkjihgfedcba\n") && e[3].data.len() == 1764);
        assert_eq!(e[0].data, b"1 2\n");
        assert_eq!(e[1].data, "3\n".repeat(2000).as_bytes());
        assert_eq!(entries(deflated, 100).err(), Some(ZipError::TooLarge("1.out".into())));
        assert_eq!(
            entries(b"not a zip at all, not at all", 100).err(),
            Some(ZipError::NotZip)
        );
        let mut broken = deflated.to_vec();
        // Inside 1.out's deflated data: past its local header (30 bytes) and its name.
        let at = deflated.windows(5).position(|w| w == b"1.out").unwrap() + 5 + 8;
        broken[at] ^= 0xff;
        assert!(entries(&broken, 64 * 1024).is_err());
    }
}
