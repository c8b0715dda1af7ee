//! What the latent lab shows of a model's latent code, as images and numbers
//! the page draws: every value comes from the core's `explore.rs`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::super::{err, image, to_js};
use super::WebTrainer;
use crate::dataset::Images;
use crate::explore;
use crate::grid;
use crate::latent::Histogram;
use crate::train::SAMPLE_COUNT;

/// The most images one row of a path holds.
const MAX_STEPS: u32 = 32;
/// The most dimensions one traversal or one set of histograms shows.
const MAX_DIMS: usize = 16;

fn rgba(values: &[f32], cols: usize) -> Result<JsValue, JsValue> {
    let (w, h, rgba) = grid::samples_rgba(values, cols);
    image(w, h, rgba)
}

fn steps(n: u32) -> Result<usize, JsValue> {
    if (2..=MAX_STEPS).contains(&n) {
        Ok(n as usize)
    } else {
        Err(err(format!(
            "steps: {n} is out of range: use 2 to {MAX_STEPS}"
        )))
    }
}

fn dims(d: Vec<u32>) -> Result<Vec<usize>, JsValue> {
    if d.len() > MAX_DIMS {
        return Err(err(format!(
            "dims: {} dimensions asked, at most {MAX_DIMS}",
            d.len()
        )));
    }
    Ok(d.into_iter().map(|d| d as usize).collect())
}

#[wasm_bindgen]
impl WebTrainer {
    /// The first `count` test images in a grid of `cols` columns (RGBA
    /// `{width, height, data}`, 32-pixel cells with a 2-pixel gap): the
    /// strip a student picks images from.
    pub async fn test_images(&self, count: u32, cols: u32) -> Result<JsValue, JsValue> {
        let state = self.state.clone();
        let s = peek!(state);
        let data = s.data();
        let n = (count as usize).min(data.test.len()).min(256);
        if n == 0 {
            return Err(err("no test images loaded"));
        }
        let idx: Vec<usize> = (0..n).collect();
        let values = explore::originals(s.driver.trainer(), &data.test, &idx)
            .await
            .map_err(err)?;
        rgba(&values, cols.max(1) as usize)
    }

    /// Test image `index`'s code with each of `dims` swept over
    /// `[-limit, limit]` in `steps` images: one row per dimension.
    pub async fn traverse(
        &self,
        index: u32,
        dims: Vec<u32>,
        limit: f32,
        steps: u32,
    ) -> Result<JsValue, JsValue> {
        let (dims, n) = (self::dims(dims)?, self::steps(steps)?);
        if !(limit.is_finite() && limit > 0.0 && limit <= 10.0) {
            return Err(err(format!(
                "limit: {limit} is out of range: use a number above 0, at most 10"
            )));
        }
        let state = self.state.clone();
        let s = peek!(state);
        let data = s.data();
        let t = s.driver.trainer();
        check_index(index, data.test.len())?;
        if let Some(bad) = dims.iter().find(|&&d| d >= t.config().latent_size) {
            return Err(err(format!(
                "dimension {bad} does not exist: the latent size is {}",
                t.config().latent_size
            )));
        }
        let values = explore::traverse(t, &data.test, index as usize, &dims, limit, n)
            .await
            .map_err(err)?;
        rgba(&values, n)
    }

    /// `steps` images from test image `a` to test image `b`, along the
    /// straight line between their codes (both reconstructions included).
    pub async fn interpolate(&self, a: u32, b: u32, steps: u32) -> Result<JsValue, JsValue> {
        let n = self::steps(steps)?;
        let state = self.state.clone();
        let s = peek!(state);
        let data = s.data();
        check_index(a, data.test.len())?;
        check_index(b, data.test.len())?;
        let values =
            explore::interpolate(s.driver.trainer(), &data.test, a as usize, b as usize, n)
                .await
                .map_err(err)?;
        rgba(&values, n)
    }

    /// `steps` images between the samples grid's prior draws `a` and `b`
    /// (0..100), along the great circle (slerp).
    pub async fn interpolate_samples(
        &self,
        a: u32,
        b: u32,
        steps: u32,
    ) -> Result<JsValue, JsValue> {
        let n = self::steps(steps)?;
        let state = self.state.clone();
        let s = peek!(state);
        let values = explore::interpolate_samples(s.driver.trainer(), a as usize, b as usize, n)
            .await
            .map_err(err)?;
        rgba(&values, n)
    }

    /// The test set's codes against the prior: `{histograms: [{dim, lo, hi,
    /// density, prior}], images, prior: image, fitted: image}` — histograms
    /// of `dims` in `bins` bins, and `count` (≤ 100) samples of z ~ N(0, I)
    /// beside as many of the diagonal Gaussian fitted to the codes (the same noise).
    pub async fn aggregate_posterior(
        &self,
        dims: Vec<u32>,
        bins: u32,
        count: u32,
    ) -> Result<JsValue, JsValue> {
        let dims = self::dims(dims)?;
        let bins = (bins as usize).clamp(4, 100);
        let count = (count as usize).clamp(1, SAMPLE_COUNT);
        let state = self.state.clone();
        let s = peek!(state);
        let data = s.data();
        let t = s.driver.trainer();
        let fit = explore::aggregate_posterior(t, &data.test, &dims, bins)
            .await
            .map_err(err)?;
        let fitted = explore::fitted_samples(t, &fit, count).await.map_err(err)?;
        let prior = t.sample(count).await.map_err(err)?;
        let cols = 10.min(count);
        #[derive(Serialize)]
        struct Out<'a> {
            histograms: &'a [Histogram],
            images: usize,
        }
        let out = to_js(&Out {
            histograms: &fit.histograms,
            images: fit.images,
        })?;
        set(&out, "prior", rgba(&prior, cols)?)?;
        set(&out, "fitted", rgba(&fitted, cols)?)?;
        Ok(out)
    }
}

#[wasm_bindgen]
impl WebTrainer {
    /// The loss as a bound on the likelihood of the first `images` (1 to
    /// 500) test images, from `k` (1 to 256) samples of each one's posterior
    /// (`bound::check_request` refuses other values by name): `{k, images,
    /// elboNats, iwaeNats, elboBitsPerDim, iwaeBitsPerDim, gapNats, constantNats}`. The samples come from a fixed
    /// seed: the same model gives the same numbers.
    pub async fn likelihood_bound(&self, images: u32, k: u32) -> Result<JsValue, JsValue> {
        crate::bound::check_request(images as usize, k as usize).map_err(err)?;
        let state = self.state.clone();
        let s = peek!(state);
        let data = s.data();
        let bounds = crate::bound::measure(
            s.driver.trainer(),
            &data.test,
            images as usize,
            k as usize,
            BOUND_SEED,
        )
        .await
        .map_err(err)?;
        to_js(&bounds)
    }
}

/// The bound's samples' own stream (see `likelihood_bound`).
const BOUND_SEED: u64 = 0x1a7e_b0de;

fn check_index(i: u32, len: usize) -> Result<(), JsValue> {
    if (i as usize) < len {
        Ok(())
    } else {
        Err(err(format!(
            "test image {i} does not exist: {len} are loaded"
        )))
    }
}

fn set(obj: &JsValue, key: &str, value: JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(obj, &key.into(), &value).map(|_| ())
}
