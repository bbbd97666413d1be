//! The profile photo: uploads, the square JPEG, the public link (items 23–27).

use sha2::{Digest as _, Sha256};

use super::*;

const PHOTO_TOO_LARGE: &str = "Photo size too large. Max allowed size: 5242880 bytes";

async fn photo_link(app: &TestApp, token: &str) -> String {
    let (s, b) = app.get(token, &format!("{PHOTO}?format=link")).await;
    assert_eq!(s, StatusCode::OK, "GET photo link: {b}");
    assert_meta(&b);
    b["settings"]["profile"]["photo"]["link"].as_str().unwrap_or_else(|| panic!("no link: {b}")).to_owned()
}

/// `(width, height)` of a JPEG (which must decode as one).
fn jpeg_size(jpeg: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).expect("a JPEG");
    (image.width(), image.height())
}

/// Lower-case hex SHA-256.
fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// A `multipart/form-data` body: `(content type, bytes)`; parts are
/// `(name, file name, content)`.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----wabizTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Items 23 and 26.
#[tokio::test]
async fn a_png_photo_is_cropped_to_a_square_jpeg_with_a_public_link() {
    let (app, admin) = registered().await;
    let upload = picture(800, 600);
    let (s, b) = upload_photo(&app, &admin, upload).await;
    assert_meta_only(s, &b, 201);

    let jpeg = photo_bytes(&app, &admin, "").await;
    assert_eq!(jpeg_size(&jpeg), (600, 600));
    assert_eq!(photo_bytes(&app, &admin, "?format=xml").await, jpeg, "any other format is the image");

    let link = photo_link(&app, &admin).await;
    assert_eq!(link, format!("{}/pps/{}.jpg", app.base_url, sha256_hex(&jpeg)));
    let r = app.client.get(&link).send().await.expect("public link");
    assert_eq!(r.status(), StatusCode::OK, "the link is served without auth");
    assert_eq!(r.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(r.bytes().await.expect("link body").to_vec(), jpeg);

    // Large pictures are scaled down to 640 px; JPEG uploads are accepted.
    let (s, b) = upload_photo(&app, &admin, picture(1000, 700)).await;
    assert_meta_only(s, &b, 201);
    let big = photo_bytes(&app, &admin, "").await;
    assert_eq!(jpeg_size(&big), (640, 640));
    assert_ne!(photo_link(&app, &admin).await, link, "a new photo has a new link");
    let (s, b) =
        send(app.authed(Method::POST, PHOTO, &admin).header(CONTENT_TYPE, "image/jpeg").body(jpeg.clone())).await;
    assert_meta_only(s, &b, 201);
    assert_eq!(jpeg_size(&photo_bytes(&app, &admin, "").await), (600, 600));
}

/// Item 24.
#[tokio::test]
async fn bad_photo_uploads_are_refused() {
    let (app, admin) = registered().await;
    let (s, b) = upload_photo(&app, &admin, vec![0u8; 5_242_880]).await;
    assert_one_error(s, &b, 400, 1009, PHOTO_TOO_LARGE);
    let (s, b) = upload_photo(&app, &admin, Vec::new()).await;
    assert_one_error(s, &b, 400, 1008, "No data found");
    let text = b"This is a plain text file, not an image.\n".to_vec();
    let (s, b) = send(app.authed(Method::POST, PHOTO, &admin).header(CONTENT_TYPE, "text/plain").body(text)).await;
    assert_one_error(s, &b, 400, 1009, "Invalid image");
    // A PNG signature on garbage does not decode.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(&[7u8; 100]);
    let (s, b) = upload_photo(&app, &admin, fake).await;
    assert_one_error(s, &b, 400, 1009, "Invalid image");

    let (s, b) = app.get(&admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
}

/// Item 25: a multipart form's `File` part is the image.
#[tokio::test]
async fn a_multipart_upload_uses_the_file_part() {
    let (app, admin) = registered().await;
    let image = picture(300, 200);
    let (ct, body) = multipart(&[
        ("caption", None, b"my photo".as_slice()),
        ("notes", Some("notes.txt"), b"not the image".as_slice()),
        ("File", Some("photo.png"), image.as_slice()),
    ]);
    let (s, b) = send(app.authed(Method::POST, PHOTO, &admin).header(CONTENT_TYPE, ct).body(body)).await;
    assert_meta_only(s, &b, 201);
    assert_eq!(jpeg_size(&photo_bytes(&app, &admin, "").await), (200, 200));
}

/// Item 27, and a missing photo.
#[tokio::test]
async fn a_deleted_photo_is_gone() {
    let (app, admin) = registered().await;
    let (s, b) = app.get(&admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let (s, b) = app.get(&admin, &format!("{PHOTO}?format=link")).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);

    let (s, b) = upload_photo(&app, &admin, picture(200, 300)).await;
    assert_meta_only(s, &b, 201);
    let link = photo_link(&app, &admin).await;

    let (s, b) = app.delete(&admin, PHOTO).await;
    assert_meta_only(s, &b, 200);
    let (s, b) = app.get(&admin, PHOTO).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let (s, b) = app.get(&admin, &format!("{PHOTO}?format=link")).await;
    assert_one_error(s, &b, 404, 1006, PHOTO_NOT_FOUND);
    let r = app.client.get(&link).send().await.expect("public link");
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the old link no longer serves the photo");
    let (s, b) = app.delete(&admin, PHOTO).await;
    assert_meta_only(s, &b, 200);
}
