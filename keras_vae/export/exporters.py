"""The entry points: `export_decoder` and `export_encoder`."""

import keras

from keras_vae.export import micro, pipeline, targets
from keras_vae.export import web as web_page
from keras_vae.export.options import ExportOptions, options_from
from keras_vae.export.report import ExportReport


# Over our 60-line habit only by its docstring, the public reference of every argument;
# the code itself is short.
def export_decoder(
    model,
    directory,
    formats=None,
    representative_samples=None,
    *,
    sampler=None,
    judge=None,
    web: bool = False,
    litertjs_dir=None,
    options: ExportOptions | None = None,
    **option_values,
) -> ExportReport:
    """Exports the decoder mean `decode(z)` as a SavedModel and verified TFLite files.

    Writes into `directory`: `saved_model/` (serving signature `decode`, input `z`, output
    `image`), `decoder_<format>.tflite` and (by default) `decoder_<format>_batch1.tflite` per
    TFLite format, `report.json`, `report.md` and `sample_grids.png`. Every TFLite file is
    run with the LiteRT interpreter on `num_verification_samples` prior latents and compared
    with the Keras decoder, and, when `tflite-micro` is installed, with TensorFlow Lite for
    Microcontrollers (see `keras_vae.export.micro`).

    A conditional model (`model.is_conditional`) is exported as `decode(z, labels)`: a
    second float32 input `labels` `(batch, num_classes)` takes one-hot rows. Its int8 variant
    is calibrated, and every variant verified, on prior latents paired with balanced labels;
    `sample_grids.png` then shows one row per class.

    `sample_grids.png` shows the model's own draws through Keras and every file, and its
    title says which: those of `generate` when a `sampler` is given, else latents from the
    model's prior (its learned prior, or N(0, I) where that is its prior) through `decode`;
    the int8 variant is calibrated and every variant verified on those latents.

    Args:
        model: a built `VAE`, `AutoEncoder` or `ConditionalVAE`.
        directory: str or path. Created if missing; must be empty unless `overwrite`.
        formats: tuple of str from `FORMATS`. Defaults to `None`: those of `options`, all
            of them without `options`.
        representative_samples: None, latents `(n, latent_dim)` or training images
            `(n, *image_shape)`, which are encoded. Added to the prior latents that
            calibrate the int8 variant. For a conditional model, latents get balanced
            labels and images come as an `(images, labels)` pair. Defaults to `None`.
        sampler: None, a `keras_vae.latent.GaussianMixture` or anything with `as_mixture()`
            (a `PriorSampler`, a fitted `GaussianMixtureSampler`, a `PoolSampler`,
            `LatentPools`, `model.prior_sampler()`, a prior layer with `as_mixture()`); its
            latent size must be the model's. It is converted to a `GaussianMixture` once, and
            the signature `generate(noise, component)`, the figure's title and the web
            page's pools all read that mixture: z = means[component] +
            scale_tril[component] @ noise. For a conditional model, its own
            `ClassConditionalPrior` (`sampler=model.prior`), read as one mixture per class
            (`targets.ClassMixtures`), which adds `generate(noise, component, choice)`:
            `component` is the class (int32), `choice` an int32 uniform in
            `[0, targets.CHOICE_LEVELS)` that picks the Gaussian of the class's mixture by
            weight, and z = mean + scale * noise. Anything else raises `TypeError` naming what
            is accepted. Defaults to `None`.
        judge: None or a `keras_vae.evaluation.Judge`. Reads the Keras panel's draws (all
            verification draws of the figure's signature); `sample_grids.png` shows the share
            it recognises. Defaults to `None`.
        web: bool. Also write `web/`, a static page that draws from the sampler's pools in a
            browser with LiteRT.js (see `keras_vae.export.web` and docs/guides/web.md).
            Needs `sampler`, the int8 format and its batch-1 file. Defaults to `False`.
        litertjs_dir: None or the `node_modules/@litertjs` folder of
            `npm install @litertjs/core@~2.5.3`, copied beside the page. Defaults to `None`:
            `$KERAS_VAE_LITERTJS`, then `./node_modules/@litertjs`.
        options: an `ExportOptions`; keyword arguments below replace its fields.
        **option_values: any field of `ExportOptions`: `num_verification_samples`,
            `num_calibration_samples`, `psnr_thresholds`, `uint8_output`, `batch1_variant`,
            `micro`, `c_array`, `overwrite`, `seed`, `latency_repeats`, `verbose`.

    Returns:
        The `ExportReport`. Raises `FidelityError` (after writing everything) when a variant
        falls below its PSNR threshold.

    Example:
    <!-- skip: a full export; docs/guides/export.md runs a small one -->
    ```python
    report = keras_vae.export.export_decoder(vae, "export", formats=("saved_model", "int8"))
    print(report.variants["int8"].psnr_db)
    ```
    """
    method = "export_decoder()"
    options = options_from(options, _with_formats(formats, option_values), method)
    check_model(model, "decoder", method)
    if options.c_array and (options.micro is False or not micro.available()):
        raise ValueError(
            f"{method} with c_array=True writes the tensor arena that TFLM measures; it needs"
            f" the TFLM check ({micro.INSTALL}, and micro not False)."
        )
    # The one conversion: everything below reads the mixture, never the object passed.
    source = None if sampler is None else targets.generate_source(model, sampler, method)
    extra = None
    if web:
        web_page.check_web_request(model, source, options, method)
        litertjs = web_page.find_litertjs(litertjs_dir, method)

        def extra(stage):
            web_page.write_web_folder(stage, model, source, litertjs)

    target = targets.decoder_target(model, options, representative_samples, method)
    if source is not None:
        target = targets.with_generate(target, model, source, options)
    if judge is not None and not hasattr(judge, "classify"):
        raise TypeError(
            f"{method} expects `judge` as a keras_vae.evaluation.Judge or None; got"
            f" {type(judge).__name__}."
        )
    return pipeline.run_export(target, options, directory, method, judge=judge, extra=extra)


def export_encoder(
    model,
    directory,
    formats=None,
    representative_samples=None,
    *,
    options: ExportOptions | None = None,
    **option_values,
) -> ExportReport:
    """Exports the encoder mean `encode(images)` (output `z_mean`) like `export_decoder`.

    For on-device embedding or anomaly scoring. Without data, the encoder is calibrated and
    verified on images the model itself generates from prior latents; `representative_samples`
    (training images) are added to the calibration set. PSNR uses the range of the reference
    latent means as its peak. Writes `encoder_<format>.tflite` files; the options are those
    of `export_decoder` except `uint8_output` and `c_array`.

    Args:
        model: BaseAutoEncoder. The model whose encoder mean is exported (not a `ConditionalVAE`).
        directory: str or Path. A new or empty output folder.
        formats: tuple of str or None. Formats to write; None for the options' default.
        representative_samples: array or None. Images for the int8 calibration. Defaults to `None`.
        options: ExportOptions or None. All further settings; None for the defaults.
    """
    method = "export_encoder()"
    options = options_from(options, _with_formats(formats, option_values), method)
    check_model(model, "encoder", method)
    target = targets.encoder_target(model, options, representative_samples, method)
    return pipeline.run_export(target, options, directory, method)


def _with_formats(formats, option_values) -> dict:
    return option_values if formats is None else {**option_values, "formats": formats}


def check_model(model, part, method) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{method} expects `model` as a keras_vae VAE, AutoEncoder or ConditionalVAE"
            f" (a keras.Model); got {type(model).__name__}."
        )
    network = getattr(model, part, None)
    if network is None or not isinstance(network, keras.layers.Layer):
        raise ValueError(
            f"{method} expects `model` with a `{part}` network (a keras_vae VAE or"
            f" AutoEncoder); got {type(model).__name__} without one."
        )
    if not model.built or not network.built:
        raise ValueError(
            f"{method} expects a built `model` (its weights created); got an unbuilt"
            f" {type(model).__name__}. Call the model on a batch or load a trained .keras file."
        )
    if not hasattr(model, "latent_dim") or not hasattr(model, "output_mean"):
        raise ValueError(
            f"{method} expects `model` with `latent_dim` and `output_mean` (a keras_vae"
            f" model); got {type(model).__name__}."
        )
