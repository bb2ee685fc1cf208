"""A real MCP client (the official Python SDK, `mcp`) driving `affsync mcp` over stdio.

Usage: client.py SCRIPT.json, where SCRIPT is {"command": [...], "calls": [{"tool", "args"}]}.
Starts the server, lists its tools, makes the calls in order (an argument "$plan_token" takes
the plan token of the call before), and prints one JSON object: the tools with their input
schemas, and each call's isError, structured content and text.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import Implementation


async def main(script):
    cmd = script["command"]
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    out = {"tools": [], "calls": []}
    async with stdio_client(params) as (read, write):
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
