#!/usr/bin/env python3
"""A counting TCP proxy for the MongoDB wire protocol: forwards every byte between an application
and its database and counts the commands the application sends (by name, from each OP_MSG /
OP_QUERY body), so database commands per request are measured the same way for any client.
Server monitoring (hello / isMaster) is counted apart.

  wire_count.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:DBPORT --control 127.0.0.1:CTLPORT
  curl 127.0.0.1:CTLPORT   ->   {"commands": N, "monitoring": M, "by_command": {...}}
"""
import argparse
import asyncio
import json
import struct

counts = {}
MONITORING = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "buildinfo",
              "getFreeMonitoringStatus", "saslStart", "saslContinue"}


def command_name(message):
    op_code = struct.unpack_from("<i", message, 12)[0]
    if op_code == 2013:  # OP_MSG: flags, then section kind 0 holds the command document
        offset = 16 + 4
        if message[offset] != 0:
            return "?"
        offset += 1
    elif op_code == 2004:  # OP_QUERY: flags, collection name, skip, return
        offset = 16 + 4
        offset = message.index(b"\0", offset) + 1 + 8
    else:
        return None
    offset += 4 + 1  # document length, first element's type
    end = message.index(b"\0", offset)
    return message[offset:end].decode("utf-8", "replace")


async def pump(reader, writer, count):
    try:
        while True:
            header = await reader.readexactly(16)
            length = struct.unpack_from("<i", header, 0)[0]
            body = await reader.readexactly(length - 16)
            if count:
                try:
                    name = command_name(header + body)
                except (ValueError, IndexError, struct.error):
                    name = "?"
                if name is not None:
                    counts[name] = counts.get(name, 0) + 1
            writer.write(header + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--control", required=True)
    a = ap.parse_args()
    up_host, up_port = a.upstream.rsplit(":", 1)

    async def on_client(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(up_host, int(up_port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))

    async def on_control(reader, writer):
        await reader.readline()
        total = sum(v for k, v in counts.items() if k not in MONITORING)
        monitoring = sum(v for k, v in counts.items() if k in MONITORING)
        body = json.dumps({"commands": total, "monitoring": monitoring, "by_command": counts}).encode()
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    host, port = a.listen.rsplit(":", 1)
    chost, cport = a.control.rsplit(":", 1)
    proxy = await asyncio.start_server(on_client, host, int(port))
    control = await asyncio.start_server(on_control, chost, int(cport))
    async with proxy, control:
        await asyncio.gather(proxy.serve_forever(), control.serve_forever())


if __name__ == "__main__":
    asyncio.run(main())
