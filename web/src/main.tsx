import { render } from "preact";

function App() {
  return <h1>Docket</h1>;
}

render(<App />, document.getElementById("app")!);
