//! The profile photo (`settings.md` §4): checks an upload and turns it into the
//! stored form, a square JPEG of at most [`MAX_EDGE`] pixels a side, plus the
//! content hash that names it in the public link `/pps/<hash>.jpg`.
//!
//! Pure functions only: storing, serving and the HTTP framing (raw body or
//! multipart part) live elsewhere.
//!
//! Uploads come from anyone holding the admin token, but the bytes themselves
//! are untrusted, so decoding runs under explicit [`Limits`]: a few hundred
//! bytes of PNG or JPEG header can claim a gigapixel image, and without limits
//! the decoder would try to allocate the whole buffer before finding out the
//! data is not there.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage, RgbaImage};
use sha2::{Digest, Sha256};

use crate::error::{ErrorCode, WaError};

/// Uploads must be strictly smaller than this (5 MiB).
pub const MAX_UPLOAD_BYTES: usize = 5_242_880;

/// Longest edge of the stored photo.
pub const MAX_EDGE: u32 = 640;

/// Largest width or height a decoder may announce. Phone cameras stay well
/// below this; anything larger is far more likely a bomb than a portrait.
const MAX_DECODE_EDGE: u32 = 8192;

/// Most the decoder may allocate: an 8192×8192 RGBA8 image, exactly.
const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

/// JPEG quality of the stored photo: visually clean at 640 px while keeping
/// the file (served without auth, often to phones) small.
const JPEG_QUALITY: u8 = 85;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
/// SOI followed by the first byte of the next marker; every JPEG starts so.
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// A normalised profile photo: square, JPEG-encoded, edge ≤ [`MAX_EDGE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Checks and normalises an uploaded profile photo:
/// empty → 400/1008 `No data found`; len >= [`MAX_UPLOAD_BYTES`] → 400/1009
/// `Photo size too large. Max allowed size: 5242880 bytes`; not JPEG or PNG by
/// magic bytes, or undecodable → 400/1009 `Invalid image`; then centre-crop to
/// a square, scale down so the edge is ≤ [`MAX_EDGE`] (never up), and encode
/// as JPEG.
pub fn process_upload(bytes: &[u8]) -> Result<Photo, WaError> {
    // Cheapest checks first: presence and size before any parsing.
    if bytes.is_empty() {
        return Err(WaError::new(ErrorCode::RequiredParameterMissing, "No data found"));
    }
    if bytes.len() >= MAX_UPLOAD_BYTES {
        return Err(WaError::invalid(format!("Photo size too large. Max allowed size: {MAX_UPLOAD_BYTES} bytes")));
    }
    let format = sniff(bytes).ok_or_else(invalid_image)?;
    let image = decode(bytes, format).map_err(|e| {
        tracing::debug!(error = %e, ?format, "profile photo upload does not decode");
        invalid_image()
    })?;

    // Flatten the whole image first, then crop through a view: the crop and
    // the scaling then read the one RGB buffer instead of copying a possibly
    // 8192-pixel-wide image twice more.
    let flat = flatten_on_white(image);
    let (x, y, edge) = centre_square(flat.width(), flat.height());
    let square = image::imageops::crop_imm(&flat, x, y, edge, edge);
    let scaled = if edge > MAX_EDGE {
        // Catmull-Rom: sharp enough for faces and logos, cheaper than Lanczos.
        image::imageops::resize(&*square, MAX_EDGE, MAX_EDGE, FilterType::CatmullRom)
    } else {
        square.to_image()
    };

    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY).encode_image(&scaled).map_err(|e| {
        // Encoding an in-memory RGB buffer into a Vec has no expected failure.
        tracing::error!(error = %e, "could not encode the profile photo as JPEG");
        WaError::internal("Could not encode the profile photo")
    })?;
    Ok(Photo { jpeg, width: scaled.width(), height: scaled.height() })
}

/// Lower-case hex SHA-256 of the JPEG bytes (the `<hash>` of `/pps/<hash>.jpg`).
/// Content-addressed so that a new photo gets a new link and caches never
/// serve a stale one.
pub fn photo_id(jpeg: &[u8]) -> String {
    crate::hex::encode(&Sha256::digest(jpeg))
}

fn invalid_image() -> WaError {
    WaError::invalid("Invalid image")
}

/// The format by magic bytes only: the `Content-Type` of an upload is not to
/// be trusted (the Webapp accepted any), and file names are not sent at all.
fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(PNG_MAGIC) {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(JPEG_MAGIC) {
        Some(ImageFormat::Jpeg)
    } else {
        None
    }
}

fn decode_limits() -> Limits {
    // `Limits` is non-exhaustive: start from the defaults and tighten.
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_EDGE);
    limits.max_image_height = Some(MAX_DECODE_EDGE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

/// Decodes under [`decode_limits`] and applies the EXIF orientation, so that
/// a portrait taken with a rotated phone is stored upright.
fn decode(bytes: &[u8], format: ImageFormat) -> image::ImageResult<DynamicImage> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    // `into_decoder` reads only the header and rejects announced dimensions
    // over the limits.
    let mut decoder = reader.into_decoder()?;
    // The output buffer is allocated before any pixel data is read, from the
    // announced size: check it against the budget first (what
    // `ImageReader::decode` does, which we cannot use as it drops the
    // orientation).
    decode_limits().reserve(decoder.total_bytes())?;
    // A broken EXIF block should not cost the user their photo.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// The largest centred square, as `(x, y, edge)`: the documented clients crop
/// the same way before uploading, so a photo already square is kept whole.
fn centre_square(w: u32, h: u32) -> (u32, u32, u32) {
    let edge = w.min(h);
    ((w - edge) / 2, (h - edge) / 2, edge)
}

/// JPEG has no alpha channel: composite transparent pixels onto white rather
/// than keeping whatever colour happens to sit under alpha 0 (often black).
fn flatten_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        // No copy when the decoder already produced RGB8 (every 8-bit JPEG).
        return image.into_rgb8();
    }
    let rgba: RgbaImage = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| -> u8 {
            let (c, a) = (u32::from(c), u32::from(a));
            // Rounded (c·a + 255·(255−a)) / 255, which never exceeds 255.
            u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, Rgba};

    fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// A gradient, so that crops and scales have something to get wrong.
    fn gradient(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128])
        }))
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        encode(gradient(w, h), ImageFormat::Png)
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        encode(gradient(w, h), ImageFormat::Jpeg)
    }

    /// Decodes the stored photo back and checks it really is the JPEG it claims.
    fn decoded(photo: &Photo) -> DynamicImage {
        assert!(photo.jpeg.starts_with(JPEG_MAGIC), "output is not a JPEG");
        let img = image::load_from_memory_with_format(&photo.jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!(img.dimensions(), (photo.width, photo.height));
        img
    }

    fn assert_error(err: WaError, code: u16, details: &str) {
        assert_eq!(err.status, 400);
        assert_eq!(err.errors.len(), 1);
        assert_eq!(err.errors[0].code.code(), code);
        assert_eq!(err.errors[0].details.as_deref(), Some(details));
    }

    /// CRC-32 (IEEE), to forge well-formed PNG chunks in the bomb test.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn landscape_png_becomes_a_square_jpeg() {
        let photo = process_upload(&png(800, 600)).unwrap();
        assert_eq!((photo.width, photo.height), (600, 600));
        assert_eq!(decoded(&photo).dimensions(), (600, 600));
    }

    #[test]
    fn large_jpeg_is_scaled_down_to_the_max_edge() {
        let photo = process_upload(&jpeg(2000, 1000)).unwrap();
        assert_eq!((photo.width, photo.height), (MAX_EDGE, MAX_EDGE));
        decoded(&photo);
    }

    #[test]
    fn small_images_are_never_scaled_up() {
        let photo = process_upload(&png(100, 300)).unwrap();
        assert_eq!((photo.width, photo.height), (100, 100));
        decoded(&photo);
    }

    #[test]
    fn the_crop_is_centred() {
        // Left and right thirds red, middle third blue: only blue must survive.
        let img =
            RgbImage::from_fn(
                300,
                100,
                |x, _| if (100..200).contains(&x) { Rgb([0, 0, 255]) } else { Rgb([255, 0, 0]) },
            );
        let photo = process_upload(&encode(DynamicImage::ImageRgb8(img), ImageFormat::Png)).unwrap();
        let out = decoded(&photo).to_rgb8();
        for (x, y) in [(0, 0), (99, 99), (50, 50), (0, 99)] {
            let Rgb([r, _, b]) = *out.get_pixel(x, y);
            assert!(b > 200 && r < 60, "pixel ({x},{y}) is {:?}", out.get_pixel(x, y));
        }
    }

    #[test]
    fn transparency_becomes_white() {
        let img = RgbaImage::from_pixel(50, 50, Rgba([0, 0, 0, 0]));
        let photo = process_upload(&encode(DynamicImage::ImageRgba8(img), ImageFormat::Png)).unwrap();
        let Rgb([r, g, b]) = *decoded(&photo).to_rgb8().get_pixel(25, 25);
        assert!(r > 245 && g > 245 && b > 245, "got {r},{g},{b}");
    }

    #[test]
    fn empty_upload_is_a_missing_parameter() {
        assert_error(process_upload(&[]).unwrap_err(), 1008, "No data found");
    }

    #[test]
    fn the_size_limit_is_exclusive() {
        let err = process_upload(&vec![0u8; MAX_UPLOAD_BYTES]).unwrap_err();
        assert_error(err, 1009, "Photo size too large. Max allowed size: 5242880 bytes");
        // The size is checked before the content, whatever the bytes are.
        let mut big_png = PNG_MAGIC.to_vec();
        big_png.resize(MAX_UPLOAD_BYTES + 1, 0);
        assert_error(
            process_upload(&big_png).unwrap_err(),
            1009,
            "Photo size too large. Max allowed size: 5242880 bytes",
        );
    }

    #[test]
    fn text_is_not_an_image() {
        assert_error(process_upload(b"hello, this is not a photo\n").unwrap_err(), 1009, "Invalid image");
    }

    #[test]
    fn other_formats_are_refused_by_magic_bytes() {
        // A GIF header: a real format, just not one we accept.
        assert_error(process_upload(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap_err(), 1009, "Invalid image");
    }

    #[test]
    fn truncated_images_are_invalid() {
        let full = png(200, 200);
        assert_error(process_upload(&full[..full.len() / 2]).unwrap_err(), 1009, "Invalid image");
        assert_error(process_upload(PNG_MAGIC).unwrap_err(), 1009, "Invalid image");
        let full = jpeg(200, 200);
        assert_error(process_upload(&full[..20]).unwrap_err(), 1009, "Invalid image");
    }

    /// A well-formed PNG that announces `w` × `h` RGBA at `depth` bits but
    /// carries no pixel data: signature, IHDR, an empty IDAT, IEND (under 100
    /// bytes).
    fn forged_png(w: u32, h: u32, depth: u8) -> Vec<u8> {
        let mut bytes = PNG_MAGIC.to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            bytes.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            bytes.extend_from_slice(&body);
            bytes.extend_from_slice(&crc32(&body).to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[depth, 6, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        chunk(b"IDAT", &[]);
        chunk(b"IEND", &[]);
        bytes
    }

    /// The refusal must come from the limits, before any pixel buffer is
    /// allocated, not from the missing data further on.
    fn assert_refused_by_limits(bytes: &[u8]) {
        let format = sniff(bytes).unwrap();
        match decode(bytes, format) {
            Err(image::ImageError::Limits(_)) => {}
            other => panic!("expected a limits error, got {other:?}"),
        }
        assert_error(process_upload(bytes).unwrap_err(), 1009, "Invalid image");
    }

    #[test]
    fn png_claiming_huge_dimensions_is_refused_by_the_limits() {
        // 100 000 × 100 000 RGBA8 would be 40 GB decoded.
        assert_refused_by_limits(&forged_png(100_000, 100_000, 8));
    }

    #[test]
    fn png_within_edge_limits_but_over_the_allocation_budget_is_refused() {
        // 8192 × 8192 at 16-bit RGBA is 512 MiB: inside the edge limit, over
        // the allocation budget.
        assert_refused_by_limits(&forged_png(MAX_DECODE_EDGE, MAX_DECODE_EDGE, 16));
    }

    #[test]
    fn jpeg_claiming_huge_dimensions_is_refused_by_the_limits() {
        // Patch the frame header (SOF0: FF C0, length, precision, height, width)
        // of a real JPEG to announce 60 000 × 60 000.
        let mut bytes = jpeg(16, 16);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline JPEG has SOF0");
        bytes[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
        bytes[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
        assert_refused_by_limits(&bytes);
    }

    #[test]
    fn photo_id_is_a_stable_lowercase_sha256() {
        let id = photo_id(b"abc");
        assert_eq!(id, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(photo_id(b"abc"), id);
        let photo = process_upload(&png(64, 64)).unwrap();
        let id = photo_id(&photo.jpeg);
        assert_eq!(id.len(), 64);
        assert!(id.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(id, photo_id(&process_upload(&png(65, 65)).unwrap().jpeg));
    }
}
