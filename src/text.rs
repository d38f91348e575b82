//! Messages without `core::fmt`: [`cat!`] joins string and integer pieces
//! into a `String`. The npm build links no formatting machinery at all (it
//! was a tenth of the module), so messages are built from these.

use alloc::string::String;

/// What [`cat!`] can join.
pub(crate) trait Piece {
    fn put(&self, out: &mut String);
}

impl Piece for str {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for char {
    fn put(&self, out: &mut String) {
        out.push(*self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self, out: &mut String) {
        (**self).put(out);
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn put(&self, out: &mut String) {
                put_u64(out, *self as u64);
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64, usize);

impl Piece for i32 {
    fn put(&self, out: &mut String) {
        if *self < 0 {
            out.push('-');
        }
        put_u64(out, u64::from(self.unsigned_abs()));
    }
}

/// Writes `n` in decimal.
pub(crate) fn put_u64(out: &mut String, n: u64) {
    // Highest power of ten not above `n`, then one digit per power: no
    // buffer to index (an index would link core's panic formatting).
    let mut power = 1;
    while n / power >= 10 {
        power *= 10;
    }
    loop {
        out.push(char::from(b'0' + (n / power % 10) as u8));
        if power == 1 {
            break;
        }
        power /= 10;
    }
}

/// Joins its arguments (each a [`Piece`]: text or an integer) into a new
/// `String`, as `format!` would with plain `{}` placeholders.
macro_rules! cat {
    ($($piece:expr),+ $(,)?) => {{
        let mut out = alloc::string::String::new();
        $( $crate::text::Piece::put(&$piece, &mut out); )+
        out
    }};
}
pub(crate) use cat;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_text_and_integers_as_format_would() {
        let name = "maxQueueSize";
        let owned = String::from(" and ");
        assert_eq!(
            cat!(
                name,
                " is ",
                0u32,
                owned,
                u64::MAX,
                ' ',
                -42i32,
                ' ',
                i32::MIN,
                ' ',
                7usize
            ),
            format!(
                "{name} is {} and {} {} {} {}",
                0u32,
                u64::MAX,
                -42i32,
                i32::MIN,
                7usize
            )
        );
    }
}
