"""A real MCP client (the official Python SDK, `mcp`) driving `affsync mcp` over stdio, or
over streamable HTTP.

Usage: client.py SCRIPT.json, where SCRIPT is {"command": [...], "calls": [{"tool", "args"}]}
(stdio: the client starts the server) or {"url": "http://127.0.0.1:PORT/mcp", "token": T or
null, "calls": [...]} (a server already listening). Lists its tools, makes the calls in order (an argument "$plan_token" takes
the plan token of the call before), and prints one JSON object: the tools with their input
schemas, and each call's isError, structured content and text.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.types import Implementation


def transport(script):
    """The client's streams: stdio to a server it starts, or streamable HTTP to a URL."""
    if script.get("url"):
        token = script.get("token")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return streamablehttp_client(script["url"], headers=headers)
    cmd = script["command"]
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    return stdio_client(params)


async def main(script):
    out = {"tools": [], "calls": []}
    async with transport(script) as streams:
        read, write = streams[0], streams[1]
        info = Implementation(name="affsync-test-client", version="1.0")
        async with ClientSession(read, write, client_info=info) as session:
            init = await session.initialize()
            out["server"] = {"name": init.serverInfo.name, "instructions": init.instructions}
            listed = await session.list_tools()
            out["tools"] = [
                {"name": t.name, "description": t.description, "inputSchema": t.inputSchema}
                for t in listed.tools
            ]
            token = None
            for call in script["calls"]:
                args = {
                    k: (token if v == "$plan_token" else v) for k, v in call["args"].items()
                }
                res = await session.call_tool(call["tool"], args)
                text = "\n".join(c.text for c in res.content if getattr(c, "type", "") == "text")
                structured = res.structuredContent
                if structured and structured.get("plan_token"):
                    token = structured["plan_token"]
                out["calls"].append(
                    {"tool": call["tool"], "isError": bool(res.isError), "structured": structured, "text": text}
                )
    print(json.dumps(out))


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        asyncio.run(main(json.load(f)))
