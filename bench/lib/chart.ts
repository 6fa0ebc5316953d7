/** A dependency-free SVG chart of throughput (bars) and p99 latency (dots) per bench case. */
export function renderChart(rows: Array<{ name: string; rps: number; p99ms: number }>): string {
  const W = 720
  const H = 360
  const left = 70
  const right = 70
  const top = 40
  const bottom = 60
  const plotW = W - left - right
  const plotH = H - top - bottom
  const maxRps = Math.max(1, ...rows.map((r) => r.rps)) * 1.1
  const maxP99 = Math.max(1, ...rows.map((r) => r.p99ms)) * 1.2
  const slot = plotW / Math.max(1, rows.length)
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">\n`
  svg += `<rect width="${W}" height="${H}" fill="white"/>\n`
  svg += `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Throughput (bars, req/s) and p99 latency (dots, ms) per case</text>\n`
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4
    svg += `<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#ddd"/>\n`
    svg += `<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#2563eb">${Math.round((maxRps * i) / 4).toLocaleString('en')}</text>\n`
    svg += `<text x="${W - right + 6}" y="${y + 4}" fill="#dc2626">${((maxP99 * i) / 4).toFixed(1)}</text>\n`
  }
  rows.forEach((r, i) => {
    const x = left + i * slot + slot * 0.2
    const h = (plotH * r.rps) / maxRps
    svg += `<rect x="${x}" y="${top + plotH - h}" width="${slot * 0.6}" height="${h}" fill="#2563eb" opacity="0.8"/>\n`
    const cy = top + plotH - (plotH * r.p99ms) / maxP99
    svg += `<circle cx="${x + slot * 0.3}" cy="${cy}" r="5" fill="#dc2626"/>\n`
    svg += `<text x="${x + slot * 0.3}" y="${H - bottom + 18}" text-anchor="middle">${esc(r.name)}</text>\n`
  })
  svg += `<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle" fill="#2563eb">req/s</text>\n`
  svg += `<text x="${W - 16}" y="${top + plotH / 2}" transform="rotate(90 ${W - 16} ${top + plotH / 2})" text-anchor="middle" fill="#dc2626">p99 ms</text>\n`
  return svg + '</svg>\n'
}
