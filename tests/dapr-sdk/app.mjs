// An app written with the official Dapr JavaScript SDK (HTTP protocol): it
// subscribes to a topic, saves and reads state, publishes, reads a secret,
// then prints what it saw as one JSON line and exits.
import { CommunicationProtocolEnum, DaprClient, DaprServer } from "@dapr/dapr";

const daprPort = process.env.DAPR_HTTP_PORT;
const appPort = process.env.APP_PORT;
const clientOptions = {
  daprHost: "127.0.0.1",
  daprPort,
  communicationProtocol: CommunicationProtocolEnum.HTTP,
};

const received = [];
const server = new DaprServer({
  serverHost: "127.0.0.1",
  serverPort: appPort,
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  clientOptions,
});
await server.pubsub.subscribe("pubsub", "greetings", async (data) => {
  received.push(data);
});
await server.start();

const client = new DaprClient(clientOptions);
await client.state.save("statestore", [{ key: "sdk-key", value: { hello: "sdk" } }]);
const state = await client.state.get("statestore", "sdk-key");
await client.pubsub.publish("pubsub", "greetings", { text: "hi from the sdk" });
const secret = await client.secret.get("envsecrets", "SDK_SECRET");

const deadline = Date.now() + 15000;
while (received.length === 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
console.log(JSON.stringify({ state, received, secret }));
await server.stop();
process.exit(0);
