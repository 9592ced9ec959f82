"""`keras-vae serve DIR`: the web page of an export on 127.0.0.1, until Ctrl-C."""

from keras_vae.cli.common import CommandError


def run(args) -> None:
    from keras_vae.export.web_server import PageServer

    try:
        server = PageServer(args.directory, args.port, args.host, quiet=False)
    except FileNotFoundError as error:
        raise CommandError(" ".join(str(error).split())) from None
    except OSError as error:
        raise CommandError(
            f"cannot listen on {args.host}:{args.port} ({error.strerror or error}); pass another"
            " --port (0 picks a free one)"
        ) from None
    print(f"serving {server.directory} at {server.url}  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
