"""TCP relay from the rig bridge address to a loopback-only service.

This machine's RabbitMQ listens on 127.0.0.1 only, which guests in their
own network namespaces cannot reach; rather than reconfigure a broker other
people use, the rig relays ``<bridge ip>:5672`` to ``127.0.0.1:5672``.
Run as ``python -m tests.rig.relay LISTEN_HOST LISTEN_PORT TARGET_HOST
TARGET_PORT``.
"""

from __future__ import annotations

import asyncio
import sys


async def _pipe(reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def serve(listen: tuple[str, int], target: tuple[str, int]) -> None:
    async def handle(reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer),
                             _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, *listen)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    host, port, t_host, t_port = argv
    asyncio.run(serve((host, int(port)), (t_host, int(t_port))))


if __name__ == '__main__':
    main(sys.argv[1:])
