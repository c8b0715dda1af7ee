//! `losses.png`: reconstruction, KL and beta against epochs, drawn with
//! embedded-graphics (lines and a built-in bitmap font, no system fonts needed).

use std::convert::Infallible;

use embedded_graphics::mono_font::{MonoTextStyle, ascii::FONT_7X13};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Line, PrimitiveStyle, Rectangle};
use embedded_graphics::text::Text;
use vaelab::train::StepMetrics;

use vaelab::record::EpochRecord;

struct Canvas {
    w: u32,
    h: u32,
    rgba: Vec<u8>,
}

impl OriginDimensions for Canvas {
    fn size(&self) -> Size {
        Size::new(self.w, self.h)
    }
}

impl DrawTarget for Canvas {
    type Color = Rgb888;
    type Error = Infallible;
    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb888>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Infallible> {
        for Pixel(p, c) in pixels {
            if p.x >= 0 && p.y >= 0 && (p.x as u32) < self.w && (p.y as u32) < self.h {
                let o = ((p.y as u32 * self.w + p.x as u32) * 4) as usize;
                self.rgba[o..o + 4].copy_from_slice(&[c.r(), c.g(), c.b(), 255]);
            }
        }
        Ok(())
    }
}

const STEP: Rgb888 = Rgb888::new(160, 190, 230);
const TRAIN: Rgb888 = Rgb888::new(20, 80, 200);
const TEST: Rgb888 = Rgb888::new(220, 90, 20);
const BETA: Rgb888 = Rgb888::new(30, 150, 60);
const INK: Rgb888 = Rgb888::new(30, 30, 30);
const GRID: Rgb888 = Rgb888::new(225, 225, 225);

struct Series<'a> {
    label: &'a str,
    color: Rgb888,
    points: Vec<(f64, f64)>,
}

const PANEL_W: i32 = 420;
const PANEL_H: i32 = 320;
const LEFT: i32 = 62;
const TOP: i32 = 40;
const RIGHT: i32 = 14;
const BOTTOM: i32 = 42;

fn panel(c: &mut Canvas, ox: i32, title: &str, series: &[Series], x_max: f64) {
    let text = MonoTextStyle::new(&FONT_7X13, INK);
    let (pw, ph) = (PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM);
    let (x0, y0) = (ox + LEFT, TOP);
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    let (mut lo, mut hi) = ys
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &y| (a.min(y), b.max(y)));
    if ys.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-9 {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
        hi + pad,
    );
    let px = |x: f64| x0 + ((x / x_max.max(1e-9)) * pw as f64).round() as i32;
    let py = |y: f64| y0 + ph - (((y - lo) / (hi - lo)) * ph as f64).round() as i32;
    Text::new(title, Point::new(x0, 20), text).draw(c).ok();
    for k in 0..=4 {
        let y = lo + (hi - lo) * k as f64 / 4.0;
        Line::new(Point::new(x0, py(y)), Point::new(x0 + pw, py(y)))
            .into_styled(PrimitiveStyle::with_stroke(GRID, 1))
            .draw(c)
            .ok();
        let label = if hi - lo < 5.0 {
            format!("{y:.2}")
        } else {
            format!("{y:.0}")
        };
        Text::new(&label, Point::new(ox + 4, py(y) + 4), text)
            .draw(c)
            .ok();
    }
    let ticks = (x_max.ceil() as usize).clamp(1, 10);
    for k in 0..=ticks {
        let x = x_max * k as f64 / ticks as f64;
        Text::new(
            &format!("{x:.0}"),
            Point::new(px(x) - 3, y0 + ph + 16),
            text,
        )
        .draw(c)
        .ok();
    }
    Text::new("epoch", Point::new(x0 + pw / 2 - 17, y0 + ph + 34), text)
        .draw(c)
        .ok();
    Rectangle::new(Point::new(x0, y0), Size::new(pw as u32, ph as u32))
        .into_styled(PrimitiveStyle::with_stroke(INK, 1))
        .draw(c)
        .ok();
    let mut legend_x = x0 + 6;
    for s in series {
        let style = PrimitiveStyle::with_stroke(s.color, if s.color == STEP { 1 } else { 2 });
        for w in s.points.windows(2) {
            Line::new(
                Point::new(px(w[0].0), py(w[0].1)),
                Point::new(px(w[1].0), py(w[1].1)),
            )
            .into_styled(style)
            .draw(c)
            .ok();
        }
        if s.points.len() == 1 {
            let p = s.points[0];
            Rectangle::new(Point::new(px(p.0) - 2, py(p.1) - 2), Size::new(5, 5))
                .into_styled(PrimitiveStyle::with_fill(s.color))
                .draw(c)
                .ok();
        }
        Text::new(
            s.label,
            Point::new(legend_x, y0 + 14),
            MonoTextStyle::new(&FONT_7X13, s.color),
        )
        .draw(c)
        .ok();
        legend_x += 7 * s.label.len() as i32 + 14;
    }
}

/// Three panels: reconstruction, KL, beta. Steps are placed at their
/// fractional epoch; epoch averages at the end of their epoch.
pub fn losses_png(
    steps: &[StepMetrics],
    epochs: &[EpochRecord],
    steps_per_epoch: usize,
    vae: bool,
) -> (usize, usize, Vec<u8>) {
    let panels = if vae { 3 } else { 1 };
    let (w, h) = ((PANEL_W * panels) as u32, PANEL_H as u32);
    let mut c = Canvas {
        w,
        h,
        rgba: vec![255; (w * h * 4) as usize],
    };
    let spe = steps_per_epoch.max(1) as f64;
    let x_of = |s: &StepMetrics| s.step as f64 / spe;
    // Skip the first steps' huge values so the scale shows the interesting part.
    let skip = steps.len() / 20;
    let step_series = |f: fn(&StepMetrics) -> f32| {
        steps
            .iter()
            .skip(skip)
            .map(|s| (x_of(s), f(s) as f64))
            .collect()
    };
    let at_end = |f: fn(&EpochRecord) -> f32| {
        epochs
            .iter()
            .map(|e| ((e.epoch + 1) as f64, f(e) as f64))
            .collect()
    };
    let x_max = (epochs.len().max(1) as f64).max(steps.last().map(x_of).unwrap_or(0.0));
    // Per-step, per-epoch train and test curves of one loss.
    let loss_series = |step: fn(&StepMetrics) -> f32,
                       train: fn(&EpochRecord) -> f32,
                       test: fn(&EpochRecord) -> f32| {
        [
            Series {
                label: "train step",
                color: STEP,
                points: step_series(step),
            },
            Series {
                label: "train",
                color: TRAIN,
                points: at_end(train),
            },
            Series {
                label: "test",
                color: TEST,
                points: at_end(test),
            },
        ]
    };
    let recon = loss_series(|s| s.recon, |e| e.train_recon, |e| e.test_recon);
    panel(
        &mut c,
        0,
        "reconstruction loss (sum over pixels)",
        &recon,
        x_max,
    );
    if vae {
        let mut kl = loss_series(|s| s.kl, |e| e.train_kl, |e| e.test_kl)
            .into_iter()
            .collect::<Vec<_>>();
        // The capacity objective aims the KL at C: drawn on the KL's own axis.
        let capacity: Vec<(f64, f64)> = steps
            .iter()
            .filter_map(|s| s.capacity.map(|c| (x_of(s), c as f64)))
            .collect();
        let weight = if capacity.is_empty() { "beta" } else { "gamma" };
        if !capacity.is_empty() {
            kl.push(Series {
                label: "capacity C",
                color: BETA,
                points: capacity,
            });
        }
        panel(&mut c, PANEL_W, "KL divergence (nats)", &kl, x_max);
        let betas = steps.iter().map(|s| (x_of(s), s.beta as f64)).collect();
        panel(
            &mut c,
            2 * PANEL_W,
            weight,
            &[Series {
                label: weight,
                color: BETA,
                points: betas,
            }],
            x_max,
        );
    }
    (w as usize, h as usize, c.rgba)
}
