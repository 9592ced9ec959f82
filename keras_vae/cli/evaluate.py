"""`keras-vae evaluate`: the negative ELBO, log p(x) and the active units on test data."""

import json

from keras_vae.cli.common import CommandError, load_model, prepare_output, resolve_data

EVALUATION_FILE = "evaluation.json"


def evaluate(model, images, labels, args) -> dict:
    """The numbers `keras-vae evaluate` prints, as a dict."""
    from keras_vae import evaluation

    given = labels if model.is_conditional else None
    terms = evaluation.elbo(model, images, labels=given, seed=args.seed)
    log_px = evaluation.log_likelihood(
        model,
        images,
        labels=given,
        num_samples=args.num_samples,
        batch_size=min(args.batch_size, 100),
        seed=args.seed,
    )
    stats = evaluation.latent_statistics(model, images, labels=given)
    return {
        "examples": len(images),
        "negative_elbo": float(terms["loss"].mean()),
        "reconstruction_loss": float(terms["reconstruction_loss"].mean()),
        "kl_loss": float(terms["kl_loss"].mean()),
        "log_likelihood": float(log_px.mean()),
        "num_samples": args.num_samples,
        "active_units": evaluation.count_active(stats["activity"]),
        "kl_per_dimension": [round(float(v), 4) for v in stats["kl_per_dimension"]],
    }


def run(args) -> None:
    model = load_model(args.model)
    if not getattr(model, "probabilistic", False):
        raise CommandError(f"evaluate needs a VAE; {args.model} holds a {type(model).__name__}")
    images, labels = resolve_data(args).arrays("test", limit=args.limit)
    results = evaluate(model, images, labels, args)
    print(f"examples:              {results['examples']}")
    print(f"negative ELBO:         {results['negative_elbo']:.2f} nats")
    print(f"  reconstruction:      {results['reconstruction_loss']:.2f} nats")
    print(f"  KL:                  {results['kl_loss']:.2f} nats")
    print(f"log p(x), IW K={args.num_samples}: {results['log_likelihood']:.2f} nats")
    print(f"active units:          {results['active_units']} of {model.latent_dim}")
    if args.output_dir:
        from keras_vae.saving import atomic_write

        output = prepare_output(args.output_dir, (), True)
        record = json.dumps(results, indent=2)
        atomic_write(output / EVALUATION_FILE, lambda path: path.write_text(record))
