// Served after proxy.js recorded the visit.
export default function Docs() {
  return <p>docs</p>;
}
