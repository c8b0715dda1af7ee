//! Turning model outputs into pixels: clamp to [-1, 1] (outputs are not
//! squashed by the model), map to bytes, tile into grids. Shared by the PNG
//! writer of the command line and the canvases of the page.

use crate::cifar::IMAGE_BYTES;

/// `[N, 3, 32, 32]` model values → planar CHW bytes, clamped to [-1, 1].
pub fn to_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .map(|v| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8)
        .collect()
}

/// Tile planar CHW images (3x32x32 each, `IMAGE_BYTES` apiece) into an RGBA
/// grid of `cols` columns with a `gap`-pixel border; returns (width, height, rgba).
pub fn tile_rgba(images: &[&[u8]], cols: usize, gap: usize) -> (usize, usize, Vec<u8>) {
    let cols = cols.max(1);
    let rows = images.len().div_ceil(cols).max(1);
    let (w, h) = (cols * (32 + gap) + gap, rows * (32 + gap) + gap);
    let mut out = vec![0u8; w * h * 4];
    for px in out.chunks_exact_mut(4) {
        px.copy_from_slice(&[255, 255, 255, 255]);
    }
    for (k, img) in images.iter().enumerate() {
        debug_assert_eq!(img.len(), IMAGE_BYTES);
        let (ox, oy) = (gap + (k % cols) * (32 + gap), gap + (k / cols) * (32 + gap));
        for y in 0..32 {
            for x in 0..32 {
                let o = ((oy + y) * w + ox + x) * 4;
                for c in 0..3 {
                    out[o + c] = img[c * 1024 + y * 32 + x];
                }
            }
        }
    }
    (w, h, out)
}

/// Pixels between the images of the figures (the page's lab finds an image
/// under the pointer by it: www/js/core.json).
pub const GAP: usize = 2;

/// The exercise's reconstruction figure: each test image followed by its
/// reconstruction, in pairs across `pairs_per_row` pairs a row. Both come as
/// model values (`[N, 3, 32, 32]`); the originals map back to their bytes exactly.
pub fn recon_pairs_rgba(
    originals: &[f32],
    recon: &[f32],
    pairs_per_row: usize,
) -> (usize, usize, Vec<u8>) {
    let (originals, recon) = (to_bytes(originals), to_bytes(recon));
    let tiles: Vec<&[u8]> = originals
        .chunks_exact(IMAGE_BYTES)
        .zip(recon.chunks_exact(IMAGE_BYTES))
        .flat_map(|(x, y)| [x, y])
        .collect();
    tile_rgba(&tiles, pairs_per_row * 2, GAP)
}

/// Samples in a square-ish grid.
pub fn samples_rgba(samples: &[f32], cols: usize) -> (usize, usize, Vec<u8>) {
    let bytes = to_bytes(samples);
    let tiles: Vec<&[u8]> = bytes.chunks_exact(IMAGE_BYTES).collect();
    tile_rgba(&tiles, cols, GAP)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_maps_the_value_range() {
        assert_eq!(
            to_bytes(&[-3.0, -1.0, 0.0, 1.0, 7.0]),
            vec![0, 0, 128, 255, 255]
        );
    }

    #[test]
    fn scaled_pixels_map_back_to_their_bytes() {
        let scaled: Vec<f32> = (0..=255u8).map(crate::cifar::scale).collect();
        assert_eq!(to_bytes(&scaled), (0..=255u8).collect::<Vec<_>>());
    }

    #[test]
    fn tiles_channels_into_rgba_pixels() {
        let mut img = vec![0u8; IMAGE_BYTES];
        img[0] = 10; // R of (0, 0)
        img[1024 + 33] = 20; // G of (1, 1)
        let (w, h, rgba) = tile_rgba(&[&img, &img], 2, 1);
        assert_eq!((w, h), (2 * 33 + 1, 34));
        assert_eq!(&rgba[(w + 1) * 4..(w + 1) * 4 + 4], &[10, 0, 0, 255]);
        let o = ((2 * w) + 2) * 4;
        assert_eq!(&rgba[o..o + 4], &[0, 20, 0, 255]);
        // Second tile starts at x = 1 + 33.
        assert_eq!(rgba[(w + 34) * 4], 10);
        assert_eq!(&rgba[0..4], &[255, 255, 255, 255]);
    }
}
