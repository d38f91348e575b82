export default function Home() {
  return <p>intempt-edge in Next.js: GET /api/track, /api/edge (Edge Runtime), /docs (through proxy.js).</p>;
}
